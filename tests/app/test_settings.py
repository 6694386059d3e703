"""The NEXLA_* settings (docs/storage.md, "Settings"): checked in one place, on every path.

A bad NEXLA_TIMEOUT (0 < t <= 3600), NEXLA_REFRESH_MARGIN (0 <= m <= 86400) or
NEXLA_LOCK_TIMEOUT (0 <= l <= 3600) is exit 2 at once, whether or not the run would use it:
also on the `token print` fast path, which used to print a fresh token and fail only an hour
later. An empty setting is unset. `--env ''` is exit 2. NEXLA_ACCESS_TOKEN must be a token.
"""

from __future__ import annotations

import pytest

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from tests.support.outcomes import assert_error, describe
from tests.support.signing_in import seed
from tests.support.stores import stored_session

USAGE = 2


# ---- every path, the fast path included (real processes) ------------------------------------


@pytest.mark.parametrize(
    "name, value",
    [
        ("NEXLA_TIMEOUT", "abc"),
        ("NEXLA_TIMEOUT", "1e10"),
        ("NEXLA_LOCK_TIMEOUT", "abc"),
        ("NEXLA_LOCK_TIMEOUT", "-1"),
        ("NEXLA_LOCK_TIMEOUT", "inf"),
        ("NEXLA_LOCK_TIMEOUT", "nan"),
        ("NEXLA_REFRESH_MARGIN", "86401"),
    ],
)
def test_a_fresh_token_print_refuses_a_bad_setting_it_would_not_use(nx, name, value):
    seed(nx)  # fresh: the fast path would print it without any timeout or lock
    result = nx.run("token", "print", env=nx.env_with(**{name: value}))
    assert_error(result, USAGE, name)


@pytest.mark.parametrize("args", [("env", "list"), ("env", "use", "{host}"), ("token", "status")])
@pytest.mark.parametrize("name, value", [("NEXLA_LOCK_TIMEOUT", "-1"), ("NEXLA_TIMEOUT", "1e10")])
def test_other_commands_refuse_a_bad_setting_at_once(nx, args, name, value):
    seed(nx)
    args = [arg.replace("{host}", nx.server.host) for arg in args]
    result = nx.run(*args, env=nx.env_with(**{name: value}))
    assert_error(result, USAGE, name)
    assert nx.server.count() == 0


def test_a_timeout_of_1e10_is_refused_before_any_request(nx):
    seed(nx)
    result = nx.run("token", "refresh", env=nx.env_with(NEXLA_TIMEOUT="1e10"))
    assert_error(result, USAGE, "NEXLA_TIMEOUT")
    assert nx.server.count() == 0


def test_env_logout_with_an_empty_env_logs_nobody_out(nx):
    token = seed(nx)
    for args in (("env", "logout", "--env", ""), ("env", "logout", "--env=")):
        result = nx.run(*args)
        assert_error(result, USAGE, "--env")
    assert stored_session(nx)["access_token"] == token
    assert nx.server.is_valid(token) and nx.server.count() == 0


@pytest.mark.parametrize("args", [("token", "print", "--env="), ("token", "status", "-e", "")])
def test_an_empty_env_option_is_a_usage_error(nx, args):
    seed(nx)
    assert_error(nx.run(*args), USAGE, "--env")


def test_an_empty_nexla_env_is_unset(nx):
    token = seed(nx)
    for value in ("", "  "):
        result = nx.run("token", "print", env=nx.env_with(NEXLA_ENV=value))
        assert (result.returncode, result.stdout) == (0, token + "\n"), describe(result)


@pytest.mark.parametrize("value", ["a\nb", "a b"])
def test_an_access_token_variable_that_is_not_a_token_is_exit_2(nx, value):
    result = nx.run("token", "print", env=nx.env_with(NEXLA_ACCESS_TOKEN=value))
    assert_error(result, USAGE, "NEXLA_ACCESS_TOKEN")


@pytest.mark.parametrize(
    "args",
    [
        ("token", "refresh"),
        ("env", "show", "--check"),
        ("env", "list", "--check"),
        ("api", "/teams"),
    ],
    ids=" ".join,
)
def test_blank_api_url_and_env_variables_are_unset_for_every_command(nx, args):
    """docs/storage.md: a blank NEXLA_* variable counts as unset, on every path."""
    seed(nx)
    nx.ok(*args, env=nx.env_with(NEXLA_API_URL="   ", NEXLA_ENV="  "))
    assert nx.server.count() == 1
