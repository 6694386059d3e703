"""The unit tier of tests/app/test_retry_after_hostile.py, whose docstring says what is promised:
the pure functions behind its promises, called directly: no server, no run of the app."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.http import client
from tests.support.hostile_values import UNREADABLE_RETRY_AFTER

CAP = 10.0


@pytest.mark.parametrize(
    "value, seconds",
    [("0", 0.0), ("3", 3.0), (" 7 ", 7.0), ("3600", CAP), ("9" * 40, CAP), ("9" * 5000, CAP)],
    ids=lambda v: str(v)[:10],
)
def test_a_readable_retry_after_is_honoured_up_to_the_cap(value, seconds):
    assert client.retry_after_seconds(value, CAP, time.time()) == seconds


@pytest.mark.parametrize("value", [*UNREADABLE_RETRY_AFTER, "\u0661"])
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
