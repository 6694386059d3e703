"""The unit tier of tests/app/test_min_ttl_bounds.py, whose docstring says what is promised: the
pure functions behind its promises, called directly: no server, no run of the app."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from tests.support.hostile_values import A_YEAR, BAD_MIN_TTL


def test_the_bound_is_the_longest_session_a_server_can_grant():
    from nexla_cli.core import model, settings

    assert settings.MAX_MIN_TTL == model.MAX_LIFETIME_SECONDS == A_YEAR


@pytest.mark.parametrize(
    "text, seconds",
    [("0", 0), ("00", 0), ("1800", 1800), (str(A_YEAR), A_YEAR), ("0" * 12, 0)],
)
def test_min_ttl_takes_plain_digits_up_to_a_year(text, seconds):
    from nexla_cli.core import settings

    assert settings.min_ttl(text) == seconds


@pytest.mark.parametrize(
    "text", [*BAD_MIN_TTL, "+5", " 5", "5 ", "5_0", "\u00b2", "\u0661\u0662", "0" * 13, "0x10"]
)
def test_min_ttl_refuses_everything_else_in_one_short_line(text):
    from nexla_cli.core import settings
    from nexla_cli.core.errors import UsageError

    with pytest.raises(UsageError) as caught:
        settings.min_ttl(text)
    assert "--min-ttl" in caught.value.message and len(caught.value.message) < 160


@given(text=st.text(max_size=30) | st.integers(min_value=-(10**20), max_value=10**20).map(str))
def test_any_text_is_seconds_in_range_or_a_usage_error(text):
    from nexla_cli.core import settings
    from nexla_cli.core.errors import UsageError

    try:
        seconds = settings.min_ttl(text)
    except UsageError:
        assert not (text.isascii() and text.isdigit() and int(text) <= A_YEAR) or len(text) > 12
        return
    assert 0 <= seconds <= A_YEAR and seconds == int(text)
