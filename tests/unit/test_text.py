"""escape_controls: the one sanitiser for text from outside (docs/storage.md, "What is shown").

C0 controls (newline and tab too), DEL and C1 are shown as escapes; lone surrogates are
replaced; everything else, non-ASCII letters included, is left as it is.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.core.text import escape_controls


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("Ada Lovelace", "Ada Lovelace"),
        ("Zoë 山田", "Zoë 山田"),
        ("a\nb\tc\rd", "a\\nb\\tc\\rd"),
        ("\x1b]0;PWNED\x07\x1b[2J", "\\x1b]0;PWNED\\x07\\x1b[2J"),
        ("nul\x00 del\x7f", "nul\\x00 del\\x7f"),
        ("csi\x9b31m nel\x85", "csi\\x9b31m nel\\x85"),
        ("bad \ud800 name", "bad \ufffd name"),
        ("back\\slash", "back\\slash"),
    ],
)
def test_examples(raw, shown):
    assert escape_controls(raw) == shown


def _unsafe(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_nothing_unsafe_survives_and_the_result_can_be_encoded(text):
    shown = escape_controls(text)
    assert not any(_unsafe(char) for char in shown)
    shown.encode("utf-8")  # no lone surrogate left
    assert escape_controls(shown) == shown  # escaping twice changes nothing more


@given(st.text())
def test_safe_text_is_left_alone(text):
    safe = "".join(char for char in text if not _unsafe(char))
    assert escape_controls(safe) == safe
