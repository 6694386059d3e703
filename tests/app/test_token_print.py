"""`nexla token print`: the token alone on stdout, renewed first when due (docs/usage.md)."""

from __future__ import annotations

import time

import pytest

from tests.support.fake_nexla import Fault
from tests.support.outcomes import describe
from tests.support.signing_in import from_key, seed_configured
from tests.support.stores import config_bytes, edit_session, read_store, set_times, stored_session


def test_fresh_token_is_printed_alone_without_any_request(nx):
    token = nx.sign_in()
    nx.server.clear_log()
    before = config_bytes(nx)
    result = nx.ok("token", "print")
    assert result.stdout == token + "\n"
    assert result.stderr == ""
    assert nx.server.count() == 0
    assert config_bytes(nx) == before


# (lifetime, seconds left, NEXLA_REFRESH_MARGIN, refresh expected)
MARGIN_CASES = {
    # The margin is 5 minutes for a long session...
    "5min-outside": (3400, 400, None, False),
    "5min-inside": (3400, 250, None, True),
    # ...and a quarter of the lifetime where that is shorter.
    "quarter-outside": (40, 12, None, False),
    "quarter-inside": (40, 8, None, True),
    # $NEXLA_REFRESH_MARGIN replaces both.
    "variable-larger": (3400, 400, "600", True),
    "variable-zero": (40, 8, "0", False),
    "variable-small": (3400, 250, "100", False),
}


@pytest.mark.parametrize(
    "lifetime,left,margin,refreshes", MARGIN_CASES.values(), ids=MARGIN_CASES.keys()
)
def test_refresh_margin(nx, lifetime, left, margin, refreshes):
    old = nx.sign_in()
    set_times(nx, lifetime=lifetime, left=left, source="refreshed", expires_estimated=False)
    nx.server.clear_log()
    env = nx.env_with(NEXLA_REFRESH_MARGIN=margin) if margin is not None else None
    result = nx.ok("token", "print", env=env)
    assert nx.server.count("POST", "/token/refresh") == (1 if refreshes else 0)
    assert nx.server.count() == (1 if refreshes else 0)
    expected = nx.server.issued[-1] if refreshes else old
    assert result.stdout == expected + "\n"
    assert result.stderr == ""
    assert stored_session(nx)["access_token"] == expected
    if refreshes:
        assert nx.server.last().authorization == f"Bearer {old}"
        assert nx.server.is_valid(expected) and not nx.server.is_valid(old)


@pytest.mark.parametrize("value", ["soon", "-5"])
def test_invalid_refresh_margin_is_a_usage_error(nx, value):
    nx.sign_in()
    result = nx.fails(2, "token", "print", env=nx.env_with(NEXLA_REFRESH_MARGIN=value))
    assert result.stdout == "" and "NEXLA_REFRESH_MARGIN" in result.stderr


def test_real_short_lifetime_is_refreshed_inside_the_quarter_margin(nx):
    # An 8-second session has a 2-second margin: fresh at first, due near its end.
    nx.server.default_lifetime = 8
    assert from_key(nx).returncode == 0
    minted = stored_session(nx)
    first = nx.ok("token", "print")
    assert first.stdout == minted["access_token"] + "\n"
    assert nx.server.count("POST", "/token/refresh") == 0

    # Near its end, by the run's clock instead of six seconds of sleep; the server still
    # takes the token, as it would 1.8 s before the real expiry.
    near_the_end = minted["expires_at"] - 1.8
    nx.server.default_lifetime = 3600
    second = nx.ok("token", "print", clock=lambda: near_the_end)
    assert nx.server.count("POST", "/token/refresh") == 1
    assert second.stdout == nx.server.issued[-1] + "\n"
    assert nx.server.is_valid(second.stdout.strip())


def test_server_error_while_still_valid_prints_the_old_token_with_a_warning(nx):
    old = nx.sign_in()
    set_times(nx, lifetime=3600, left=60)
    nx.server.add_fault("POST", "/token/refresh", Fault.status(502, {"message": "bad gateway"}))
    result = nx.ok("token", "print")
    assert result.stdout == old + "\n"
    assert "warning:" in result.stderr and "bad gateway" in result.stderr
    assert nx.server.count("POST", "/token/refresh") == 1

    # Remembered for 30 s: the next run takes the same way without asking again.
    again = nx.ok("token", "print")
    assert again.stdout == old + "\n"
    assert "warning:" in again.stderr and "not retried" in again.stderr
    assert nx.server.count("POST", "/token/refresh") == 1

    # Once the failure is older than 30 s, the next run tries again (and succeeds now).
    failure = stored_session(nx)["refresh_failure"]
    edit_session(nx, refresh_failure={**failure, "at": int(time.time()) - 31})
    third = nx.ok("token", "print")
    assert nx.server.count("POST", "/token/refresh") == 2
    assert third.stdout == nx.server.issued[-1] + "\n"
    assert third.stderr == ""
    assert "refresh_failure" not in stored_session(nx)


def test_timeout_while_still_valid_prints_the_old_token_with_a_warning(nx):
    old = nx.sign_in()
    set_times(nx, lifetime=3600, left=60)
    nx.server.add_fault("POST", "/token/refresh", Fault.hang(20))
    # A fraction of a second of waiting is all the timeout needs to show.
    result = nx.ok("token", "print", env=nx.env_with(NEXLA_TIMEOUT="0.3"))
    assert result.stdout == old + "\n"
    assert "warning:" in result.stderr and "timed out" in result.stderr
    assert nx.server.count("POST", "/token/refresh") == 1


def test_refused_refresh_means_a_dead_token_that_is_never_printed(nx):
    old = nx.sign_in()
    set_times(nx, lifetime=3600, left=60)
    nx.server.invalidate(old)
    result = nx.fails(4, "token", "print")
    assert result.stdout == ""
    assert old not in result.stderr
    assert "nexla env login" in result.stderr
    assert stored_session(nx)["refresh_failure"]["kind"] == "rejected"


def test_refused_refresh_with_a_saved_key_remints(nx):
    assert from_key(nx, "svc-saved", "--save-key").returncode == 0
    old = stored_session(nx)["access_token"]
    set_times(nx, lifetime=3600, left=60)
    nx.server.invalidate(old)
    result = nx.ok("token", "print")
    new = result.stdout.strip()
    assert new == nx.server.issued[-1] and nx.server.is_valid(new)
    assert nx.server.count("POST", "/token/refresh") == 1
    assert nx.server.count("POST", "/token") == 2
    assert stored_session(nx)["source"] == "service_key"


@pytest.mark.own_server  # it stops the server
def test_expired_and_unreachable_exits_5(nx):
    nx.sign_in()
    set_times(nx, lifetime=3600, left=-10, source="refreshed", expires_estimated=False)
    nx.server.stop()
    result = nx.fails(5, "token", "print", env=nx.env_with(NEXLA_TIMEOUT="2"))
    assert result.stdout == ""
    assert "expired" in result.stderr and "error:" in result.stderr


def test_expired_and_server_error_exits_5(nx):
    old = nx.sign_in()
    set_times(nx, lifetime=3600, left=-10)
    nx.server.add_fault("POST", "/token/refresh", Fault.status(500))
    result = nx.fails(5, "token", "print")
    assert result.stdout == ""
    assert old not in result.stderr


@pytest.mark.parametrize("alive", [True, False], ids=["alive", "dead"])
def test_pasted_token_past_its_estimated_expiry_is_settled_by_the_server(nx, alive):
    old = nx.sign_in()
    assert stored_session(nx)["expires_estimated"] is True
    set_times(nx, lifetime=3600, left=-5)
    if not alive:
        nx.server.invalidate(old)
    result = nx.run("token", "print")
    assert nx.server.count("POST", "/token/refresh") == 1
    if alive:
        assert result.returncode == 0, describe(result)
        assert result.stdout == nx.server.issued[-1] + "\n"
    else:
        assert result.returncode == 4, describe(result)
        assert result.stdout == ""


def test_access_token_variable_needs_no_configuration(nx):
    result = nx.ok("token", "print", env=nx.env_with(NEXLA_ACCESS_TOKEN="tok-from-variable"))
    assert result.stdout == "tok-from-variable\n"
    assert result.stderr == ""
    assert not nx.config_dir.exists()
    assert nx.server.count() == 0


def test_access_token_variable_wins_and_nothing_is_read_or_written(nx):
    nx.sign_in()
    set_times(nx, lifetime=3600, left=-5)  # due: would otherwise refresh
    before = config_bytes(nx)
    nx.server.clear_log()
    env = nx.env_with(NEXLA_ACCESS_TOKEN="tok-from-variable", NEXLA_REFRESH_MARGIN="86400")
    result = nx.ok("token", "print", env=env)
    assert result.stdout == "tok-from-variable\n"
    assert nx.server.count() == 0
    assert config_bytes(nx) == before
    # Not even read: a corrupt store does not matter.
    (nx.config_dir / "credentials.json").write_text("{garbage")
    result = nx.ok("token", "print", env=env)
    assert result.stdout == "tok-from-variable\n", describe(result)


def test_env_option_and_variable_pick_the_environment(nx):
    token_a = nx.sign_in()
    other = f"localhost:{nx.server.port}"
    token_b = nx.server.issue_token()
    seed_configured(nx, other, token_b)
    assert read_store(nx.config_dir)["current"] == other

    def printed(*args, **variables):
        result = nx.ok("token", "print", *args, env=nx.env_with(**variables))
        return result.stdout.strip()

    assert printed() == token_b
    assert printed("--env", nx.server.host) == token_a
    assert printed("-e", nx.server.host) == token_a
    assert printed(NEXLA_ENV=nx.server.host) == token_a
    assert printed("--env", other, NEXLA_ENV=nx.server.host) == token_b
    assert nx.server.count("POST", "/token/refresh") == 0


def test_not_signed_in_unknown_environment_and_nothing_configured(nx):
    result = nx.fails(3, "token", "print")
    assert result.stdout == "" and "nexla env configure" in result.stderr

    nx.sign_in()
    result = nx.fails(3, "token", "print", "--env", "elsewhere.example.com")
    assert "unknown environment" in result.stderr

    assert nx.run("env", "logout").returncode == 0
    result = nx.fails(4, "token", "print")
    assert result.stdout == "" and "not signed in" in result.stderr


def test_corrupt_store_exits_3_naming_it(nx):
    nx.sign_in()
    path = nx.config_dir / "credentials.json"
    path.write_text("{garbage")
    result = nx.fails(3, "token", "print")
    assert result.stdout == ""
    assert str(path) in result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_text() == "{garbage"


@pytest.mark.parametrize("failure", ["oops", {"at": "soon", "kind": "unreachable"}, [1]])
def test_malformed_refresh_failure_is_a_corrupt_store(nx, failure):
    nx.sign_in()
    set_times(nx, lifetime=3600, left=60, refresh_failure=failure)
    result = nx.fails(3, "token", "print")
    assert result.stdout == "" and "credentials.json" in result.stderr


def test_answer_without_a_token_while_valid_prints_the_old_token_with_a_warning(nx):
    old = nx.sign_in()
    set_times(nx, lifetime=3600, left=60)
    nx.server.add_fault("POST", "/token/refresh", Fault.body(200, "<html>maintenance</html>"))
    result = nx.ok("token", "print")
    assert result.stdout == old + "\n"
    assert "warning:" in result.stderr and "not JSON" in result.stderr
    assert stored_session(nx)["access_token"] == old
