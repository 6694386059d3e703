"""A 429 or 503 whose `Retry-After` cannot be read (docs/network.md, "Retries"): retried
with the usual backoff, as if the header were not there; never given up at once as a
malformed answer."""

from __future__ import annotations

import time

import pytest

from tests.support.fake_nexla import Fault
from tests.support.hostile_values import UNREADABLE_RETRY_AFTER
from tests.support.outcomes import assert_presentable, describe


def _rate_limited(value: str, code: int = 429) -> Fault:
    return Fault.status(code, {"message": "slow down"}, headers={"Retry-After": value})


@pytest.mark.parametrize("value", UNREADABLE_RETRY_AFTER, ids=lambda v: v[:10] or "empty")
def test_a_get_refused_with_an_unreadable_retry_after_is_retried(nx, value):
    nx.sign_in()
    nx.server.clear_log()
    nx.server.add_fault("GET", "/users/current", _rate_limited(value))
    started = time.monotonic()
    result = nx.run("api", "/users/current")
    assert result.returncode == 0, describe(result)
    assert nx.server.count("GET", "/users/current") == 2
    assert time.monotonic() - started < 5  # the usual backoff, not a wait the header named


@pytest.mark.parametrize("value", ["garbage", "-5", "1e3"])
@pytest.mark.parametrize("code", [429, 503])
def test_a_refresh_refused_with_an_unreadable_retry_after_is_sent_again(nx, value, code):
    old = nx.sign_in()
    nx.server.clear_log()
    nx.server.add_fault("POST", "/token/refresh", _rate_limited(value, code))
    result = nx.run("token", "refresh", "--print")
    assert result.returncode == 0, describe(result)
    assert result.stdout.strip() == nx.server.issued[-1] != old
    assert nx.server.count("POST", "/token/refresh") == 2


def test_refused_every_time_is_exit_5_naming_the_status_not_the_headers(nx):
    nx.sign_in()
    nx.server.clear_log()
    nx.server.add_fault("GET", "/users/current", _rate_limited("garbage"), times=None)
    result = nx.run("env", "show", "--check")
    assert result.returncode == 5, describe(result)
    assert "malformed headers" not in result.stderr
    assert nx.server.count("GET", "/users/current") == 4  # the first try and 3 retries
    assert_presentable(result)
