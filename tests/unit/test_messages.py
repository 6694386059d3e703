"""The unit tier of tests/app/test_messages.py, whose docstring says what is promised: the pure
functions behind its promises, called directly: no server, no run of the app."""

import re

from hypothesis import given
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.core import timefmt

# Every way a time or a duration is shown to people, and the forms that must never appear.
ISO_UTC = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
DURATION = r"(?:\d+s|\d+m|\d+h(?: \d+m)?|\d+d)"


# --- the time helpers --------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10 * 365 * 86400))
def test_durations_are_one_or_two_units_and_round_down(seconds):
    shown = timefmt.duration(seconds)
    assert re.fullmatch(DURATION, shown), shown
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value = sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smhd])", shown))
    assert value <= seconds
    # The unit dropped is the only thing lost: under a minute below two days, else a day.
    assert seconds - value < (60 if seconds < 2 * 86400 else 86400)


def test_durations_read_as_people_write_them():
    assert [timefmt.duration(s) for s in (40, 59 * 60 + 59, 3720, 7200, 3 * 86400 + 5)] == [
        "40s",
        "59m",
        "1h 2m",
        "2h",
        "3d",
    ]


@given(st.floats(min_value=0, max_value=4e9), st.floats(min_value=-4e8, max_value=4e8))
def test_an_expiry_is_either_in_the_future_or_expired_never_in_0s(now, left):
    text = timefmt.until(now + left, now)
    assert re.fullmatch(
        rf"(expires in {DURATION}|expired (just now|{DURATION} ago)) \({ISO_UTC}\)", text
    ), text
    assert text.startswith("expires in") == (left >= 1)
    assert "in 0s" not in text


def test_instants_are_iso_8601_utc():
    assert timefmt.iso_utc(1795903336) == "2026-11-28T22:02:16Z"
