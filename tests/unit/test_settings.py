"""The unit tier of tests/app/test_settings.py, whose docstring says what is promised: the pure
functions behind its promises, called directly: no server, no run of the app."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.core import settings
from nexla_cli.core.errors import UsageError

USAGE = 2

RANGES = {
    "NEXLA_TIMEOUT": (settings.TIMEOUT, 0.0, 3600.0, False),
    "NEXLA_REFRESH_MARGIN": (settings.REFRESH_MARGIN, 0.0, 86400.0, True),
    "NEXLA_LOCK_TIMEOUT": (settings.LOCK_TIMEOUT, 0.0, 3600.0, True),
}
BAD = {
    "NEXLA_TIMEOUT": ["abc", "0", "-1", "nan", "inf", "1e10", "3600.5", "10s"],
    "NEXLA_REFRESH_MARGIN": ["abc", "-1", "nan", "-inf", "86401", "1e999"],
    "NEXLA_LOCK_TIMEOUT": ["abc", "-1", "inf", "nan", "3601", "1e10"],
}
GOOD = {
    "NEXLA_TIMEOUT": ["0.5", "30", "3600", " 7 "],
    "NEXLA_REFRESH_MARGIN": ["0", "300", "86400"],
    "NEXLA_LOCK_TIMEOUT": ["0", "1.5", "3600"],
}


# ---- the parser, in-process ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, value", [(name, value) for name, values in BAD.items() for value in values]
)
def test_bad_values_are_usage_errors_naming_the_variable(name, value):
    with pytest.raises(UsageError) as caught:
        settings.check_all({name: value})
    assert name in caught.value.message and caught.value.exit_code == USAGE


@pytest.mark.parametrize(
    "name, value", [(name, value) for name, values in GOOD.items() for value in values]
)
def test_good_values_are_taken(name, value):
    settings.check_all({name: value})
    assert settings.seconds(RANGES[name][0], {name: value}) == float(value)


@pytest.mark.parametrize("value", ["", "   ", "\t"])
def test_empty_settings_are_unset(value):
    environ = {name: value for name in (*RANGES, "NEXLA_ENV", "NEXLA_ACCESS_TOKEN")}
    settings.check_all(environ)
    assert settings.timeout(environ) is None and settings.refresh_margin(environ) is None
    assert settings.lock_timeout(60.0, environ) == 60.0
    assert settings.env_name(environ) is None and settings.access_token(environ) is None


@given(name=st.sampled_from(sorted(RANGES)), text=st.text(max_size=30))
def test_any_text_is_a_number_in_range_or_a_usage_error(name, text):
    """Property: never another exception, and never a value outside the documented range."""
    setting, lowest, highest, lowest_allowed = RANGES[name]
    try:
        value = settings.seconds(setting, {name: text})
    except UsageError:
        return
    if value is None:
        assert not text.strip()
        return
    assert math.isfinite(value) and value <= highest
    assert value >= lowest if lowest_allowed else value > lowest


@given(name=st.sampled_from(sorted(RANGES)), number=st.floats(allow_nan=True))
def test_any_number_is_accepted_exactly_when_in_range(name, number):
    setting, lowest, highest, lowest_allowed = RANGES[name]
    in_range = (
        math.isfinite(number)
        and number <= highest
        and (number >= lowest if lowest_allowed else number > lowest)
    )
    try:
        value = settings.seconds(setting, {name: repr(number)})
    except UsageError:
        assert not in_range
    else:
        assert in_range and value == number


@pytest.mark.parametrize("token", ["a\nb", "a b", "tök", "a\x1b[2Jb", "x" * (16 * 1024 + 1)])
def test_an_access_token_that_is_not_a_token_is_refused(token):
    with pytest.raises(UsageError, match="NEXLA_ACCESS_TOKEN"):
        settings.access_token({"NEXLA_ACCESS_TOKEN": token})


def test_an_access_token_is_stripped():
    assert settings.access_token({"NEXLA_ACCESS_TOKEN": "  tok-a.b_c \n"}) == "tok-a.b_c"


@pytest.mark.parametrize(
    "name, value", [("NEXLA_ENV", "http://dataops.nexla.io"), ("NEXLA_API_URL", "http://x.io/a")]
)
def test_bad_names_and_urls_are_refused_everywhere(name, value):
    with pytest.raises(UsageError, match=name):
        settings.check_all({name: value})
