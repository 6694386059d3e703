"""`--min-ttl SECONDS` (docs/scripting.md): a whole number of seconds from 0 to a year, the
longest session any server can grant; anything else is exit 2 before any request, for
`token print` (its fast path included), `token export` and `token exec`."""

from __future__ import annotations

import pytest

from tests.support.hostile_values import A_YEAR, BAD_MIN_TTL
from tests.support.outcomes import assert_presentable, describe
from tests.support.signing_in import signed_in_with_time_left
from tests.support.stores import config_bytes, set_times

COMMANDS = {
    "print": ("token", "print"),
    "export": ("token", "export"),
    "exec": ("token", "exec"),
}


def _argv(command: str, value: str) -> tuple[str, ...]:
    argv = (*COMMANDS[command], "--min-ttl", value)
    return (*argv, "--", "true") if command == "exec" else argv


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("value", BAD_MIN_TTL, ids=lambda v: v[:12] or "empty")
@pytest.mark.parametrize("left", [1000, 3000], ids=["short", "fresh"])
def test_a_bad_min_ttl_is_exit_2_before_any_request(nx, command, value, left):
    # "fresh": the token print fast path would answer a good value; "short": a good value
    # would renew first.
    signed_in_with_time_left(nx, left=left)
    before = config_bytes(nx)
    result = nx.run(*_argv(command, value))
    assert result.returncode == 2, describe(result)
    assert result.stdout == "" and result.stderr.startswith("error: "), describe(result)
    assert "--min-ttl" in result.stderr
    assert_presentable(result)
    assert nx.server.count() == 0
    assert config_bytes(nx) == before


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_year_is_taken_and_asked_of_the_server(nx, command):
    # The bound itself is a value like any other: one renewal, then the lifetime the server
    # grants is named (docs/scripting.md).
    signed_in_with_time_left(nx, left=1000)
    result = nx.run(*_argv(command, str(A_YEAR)))
    assert result.returncode == 2, describe(result)
    assert f"--min-ttl {A_YEAR} is longer than the sessions" in result.stderr
    assert nx.server.count("POST", "/token/refresh") == 1


@pytest.mark.parametrize("value", ["0", "00", "1800"])
def test_good_values_on_the_fast_path(nx, value):
    token = nx.sign_in()
    set_times(nx, lifetime=3600, left=3000, source="refreshed", expires_estimated=False)
    nx.server.clear_log()
    result = nx.run("token", "print", "--min-ttl", value)
    assert (result.returncode, result.stdout) == (0, token + "\n"), describe(result)
    assert nx.server.count() == 0
