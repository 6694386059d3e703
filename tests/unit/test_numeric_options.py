"""The unit tier of tests/app/test_numeric_options.py, whose docstring says what is promised: the
pure functions behind its promises, called directly: no server, no run of the app."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.core import settings
from nexla_cli.core.errors import UsageError


@given(
    text=st.text(max_size=20) | st.integers(-(10**15), 10**15).map(str),
    lowest=st.integers(0, 5),
    highest=st.integers(5, 10**12),
)
def test_a_whole_number_is_in_range_or_a_short_usage_error(text, lowest, highest):
    try:
        number = settings.whole_number("--n", text, lowest, highest)
    except UsageError as exc:
        assert len(exc.message) < 150 and "\n" not in exc.message
        plain = text.isascii() and text.isdigit()
        assert not plain or len(text) > 12 or not lowest <= int(text) <= highest
        return
    assert lowest <= number <= highest and number == int(text) and text.isdigit()


@pytest.mark.parametrize(
    "variable", ["NEXLA_TIMEOUT", "NEXLA_REFRESH_MARGIN", "NEXLA_LOCK_TIMEOUT"]
)
@pytest.mark.parametrize("text", ["1_0", "\u0661\u0660", "\uff11\uff10", "0x10", "1e3\u00a0x"])
def test_a_setting_is_a_decimal_number_in_ascii(variable, text):
    with pytest.raises(UsageError) as caught:
        settings.check_all({variable: text})
    assert variable in caught.value.message


@pytest.mark.parametrize("text, value", [("10", 10.0), (" 10 ", 10.0), ("1e1", 10.0), ("2.5", 2.5)])
def test_decimal_settings_are_taken(text, value):
    assert settings.timeout({"NEXLA_TIMEOUT": text}) == value
