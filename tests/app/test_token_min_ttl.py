"""`nexla token print --min-ttl SECONDS` (docs/scripting.md): the printed token has at least
SECONDS of life left, renewed under the same single-flight lock when it has less."""

from __future__ import annotations

import time

import pytest

from tests.support.fake_nexla import Fault
from tests.support.outcomes import describe
from tests.support.signing_in import from_key, signed_in_with_time_left
from tests.support.stores import config_bytes, set_times, stored_session


def test_enough_life_left_makes_no_request(nx):
    token = signed_in_with_time_left(nx, left=2000)
    before = config_bytes(nx)
    result = nx.run("token", "print", "--min-ttl", "1800")
    assert (result.returncode, result.stdout, result.stderr) == (0, token + "\n", "")
    assert nx.server.count() == 0
    assert config_bytes(nx) == before


def test_too_little_life_left_is_renewed_with_one_request(nx):
    old = signed_in_with_time_left(nx, left=1000)  # fresh by the margin, short of what is asked
    result = nx.ok("token", "print", "--min-ttl", "1800")
    new = nx.server.issued[-1]
    assert result.stdout == new + "\n" and new != old
    assert nx.server.count() == 1 and nx.server.count("POST", "/token/refresh") == 1
    session = stored_session(nx)
    assert session["access_token"] == new
    assert session["expires_at"] - time.time() >= 1800


def test_min_ttl_zero_is_the_plain_rule(nx):
    token = signed_in_with_time_left(nx, left=1000)
    result = nx.run("token", "print", "--min-ttl", "0")
    assert (result.returncode, result.stdout) == (0, token + "\n")
    assert nx.server.count() == 0


def test_min_ttl_equals_form_is_accepted(nx):
    signed_in_with_time_left(nx, left=1000)
    nx.ok("token", "print", "--min-ttl=1800", "--env", nx.server.host)
    assert nx.server.count("POST", "/token/refresh") == 1


def test_expired_session_with_a_saved_key_is_re_minted(nx):
    assert from_key(nx, "svc-key-1", "--save-key").returncode == 0
    set_times(nx, lifetime=3600, left=-10)
    nx.server.clear_log()
    result = nx.ok("token", "print", "--min-ttl", "600")
    assert nx.server.count("POST", "/token") == 1 and nx.server.count() == 1
    assert result.stdout == nx.server.issued[-1] + "\n"


def test_longer_than_the_server_grants_renews_once_then_exit_2(nx):
    old = signed_in_with_time_left(nx, left=2000)
    result = nx.fails(2, "token", "print", "--min-ttl", "7200")
    assert result.stdout == ""
    assert "--min-ttl 7200" in result.stderr and "(1h)" in result.stderr
    assert nx.server.count() == 1 and nx.server.count("POST", "/token/refresh") == 1
    # The renewed session is kept.
    new = nx.server.issued[-1]
    assert new != old and stored_session(nx)["access_token"] == new
    assert nx.server.is_valid(new)
    # And the next plain print uses it without asking again.
    again = nx.run("token", "print")
    assert again.stdout == new + "\n" and nx.server.count() == 1


def test_short_lifetime_server_exit_2_names_its_lifetime(nx):
    nx.server.default_lifetime = 90
    assert from_key(nx).returncode == 0
    nx.server.clear_log()
    result = nx.fails(2, "token", "print", "--min-ttl", "120")
    assert "(1m)" in result.stderr
    assert nx.server.count() == 1


def test_unreachable_server_cannot_give_the_ttl_asked_exit_5(nx):
    old = signed_in_with_time_left(nx, left=1000)
    nx.server.add_fault("POST", "/token/refresh", Fault.status(503), times=None)
    result = nx.fails(5, "token", "print", "--min-ttl", "1800", env=nx.env_with(NEXLA_TIMEOUT="2"))
    assert result.stdout == "" and old not in result.stderr
    # Without --min-ttl the same still-valid token is fine as it is.
    plain = nx.run("token", "print")
    assert (plain.returncode, plain.stdout) == (0, old + "\n")


def test_unreachable_server_token_with_enough_life_is_used_with_a_warning(nx):
    # Inside the refresh margin but with the life asked for: the old token still serves.
    old = signed_in_with_time_left(nx, left=250)
    nx.server.add_fault("POST", "/token/refresh", Fault.status(503), times=None)
    result = nx.run("token", "print", "--min-ttl", "200", env=nx.env_with(NEXLA_TIMEOUT="2"))
    assert (result.returncode, result.stdout) == (0, old + "\n"), describe(result)
    assert "warning:" in result.stderr


def test_refused_refresh_is_exit_4(nx):
    old = signed_in_with_time_left(nx, left=1000)
    nx.server.invalidate(old)
    result = nx.fails(4, "token", "print", "--min-ttl", "1800")
    assert result.stdout == "" and "nexla env login" in result.stderr


def test_access_token_variable_is_printed_with_a_warning(nx):
    signed_in_with_time_left(nx, left=1000)
    result = nx.run(
        "token", "print", "--min-ttl", "1800", env=nx.env_with(NEXLA_ACCESS_TOKEN="tok-var")
    )
    assert (result.returncode, result.stdout) == (0, "tok-var\n")
    assert "NEXLA_ACCESS_TOKEN" in result.stderr and "--min-ttl" in result.stderr
    assert nx.server.count() == 0


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", ""])
def test_bad_min_ttl_is_a_usage_error(nx, value):
    signed_in_with_time_left(nx, left=1000)
    result = nx.fails(2, "token", "print", "--min-ttl", value)
    assert result.stdout == "" and result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    assert nx.server.count() == 0


def test_a_refresh_that_cannot_be_had_near_the_minimum_is_a_network_error(nx):
    """docs/scripting.md: when the token cannot be renewed, --min-ttl fails as a refresh
    does (exit 5 for an unreachable server), never with the claim that the server grants
    shorter sessions. The token has just over the minimum left when the run starts and less
    once the hanging refresh has timed out."""
    signed_in_with_time_left(nx, lifetime=3600, left=202)
    nx.server.add_fault("POST", "/token/refresh", Fault.hang(30), times=None)
    # The run's clock: 202 s left until the refresh reaches the server, 199 s once it has
    # (three seconds of hanging, by this clock; by the real one, the 0.3-second timeout).
    start = stored_session(nx)["expires_at"] - 202

    def clock() -> float:
        return start + (3 if nx.server.count("POST", "/token/refresh") else 0)

    result = nx.fails(
        5, "token", "print", "--min-ttl", "200", env=nx.env_with(NEXLA_TIMEOUT="0.3"), clock=clock
    )
    assert result.stdout == ""
    assert "could not be renewed" in result.stderr
    assert "grants" not in result.stderr
    assert nx.server.count("POST", "/token/refresh") == 1
