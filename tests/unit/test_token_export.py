"""The unit tier of tests/app/test_token_export.py, whose docstring says what is promised: the pure
functions behind its promises, called directly: no server, no run of the app."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.auth import handoff


def test_powershell_doubles_every_kind_of_single_quote():
    # pwsh is not installed everywhere; this is its quoting rule for verbatim strings.
    assert handoff.quote_powershell("a'b\u2019c$d`e") == "'a''b\u2019\u2019c$d`e'"
    assert handoff.quote_fish("a'b\\c$d") == "'a\\'b\\\\c$d'"
    assert handoff.quote_sh("a'b") == "'a'\\''b'"


# The quoting itself, against the real shells, over everything a value may hold ---------------

_VALUE = st.text(
    st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")),
    min_size=1,
    max_size=40,
).filter(lambda value: value.isprintable() and not any(ch.isspace() for ch in value))


@settings(max_examples=60, deadline=None)
@given(values=st.lists(_VALUE, min_size=1, max_size=12))
def test_dotenv_quoting_round_trips_through_python_dotenv(values):
    dotenv = pytest.importorskip("dotenv")
    # A value some dotenv reader would change is refused (tests/app/test_dotenv_roundtrip.py).
    values = [value for value in values if not handoff.dotenv_refusal(value)]
    text = "".join(f"V{i}={handoff.quote_dotenv(value)}\n" for i, value in enumerate(values))
    read = dotenv.dotenv_values(stream=io.StringIO(text), interpolate=True)
    assert [read[f"V{i}"] for i in range(len(values))] == values
