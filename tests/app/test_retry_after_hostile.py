"""A 429 or 503 whose `Retry-After` cannot be read (docs/network.md, "Retries"): retried
with the usual backoff, as if the header were not there; never given up at once as a
malformed answer."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.http import client
from tests.support.fake_nexla import Fault
from tests.support.outcomes import assert_presentable, describe

# Each character of a header value below is one byte on the wire (Latin-1): "\xd9\xa1" is
# the Arabic-Indic digit one in UTF-8, which str.isdigit() would take for a digit.
UNREADABLE = ["garbage", "-5", "1e3", "1.5", "", " ", "\xff\xfe", "Mon, 99 Foo", "\xd9\xa1"]
CAP = 10.0


def _rate_limited(value: str, code: int = 429) -> Fault:
    return Fault.status(code, {"message": "slow down"}, headers={"Retry-After": value})


@pytest.mark.parametrize("value", UNREADABLE, ids=lambda v: v[:10] or "empty")
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


@pytest.mark.parametrize(
    "value, seconds",
    [("0", 0.0), ("3", 3.0), (" 7 ", 7.0), ("3600", CAP), ("9" * 40, CAP), ("9" * 5000, CAP)],
    ids=lambda v: str(v)[:10],
)
def test_a_readable_retry_after_is_honoured_up_to_the_cap(value, seconds):
    assert client.retry_after_seconds(value, CAP, time.time()) == seconds


@pytest.mark.parametrize("value", [*UNREADABLE, "\u0661"])
def test_an_unreadable_retry_after_is_none(value):
    assert client.retry_after_seconds(value, CAP, time.time()) is None


def test_a_date_is_the_time_until_it_up_to_the_cap():
    past = "Wed, 21 Oct 2015 07:28:00 GMT"
    now = 1_700_000_000.0
    assert client.retry_after_seconds(past, CAP, now) == 0.0
    assert client.retry_after_seconds("Tue, 14 Nov 2023 22:13:24 GMT", CAP, now) == 4.0
    assert client.retry_after_seconds("Fri, 31 Dec 9999 23:59:59 GMT", CAP, now) == CAP


@given(value=st.text(max_size=60))
def test_any_retry_after_is_none_or_a_wait_within_the_cap(value):
    seconds = client.retry_after_seconds(value, CAP, time.time())
    assert seconds is None or 0.0 <= seconds <= CAP
