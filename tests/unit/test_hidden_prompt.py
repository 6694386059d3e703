"""The unit tier of tests/e2e/test_hidden_prompt.py, whose docstring says what is promised:
the line editing the hidden prompt does itself, as a table."""

from __future__ import annotations

import pytest

from nexla_cli.core import lineedit
from nexla_cli.core.lineedit import END_OF_INPUT, ENTER, INTERRUPT, TOO_LONG, EditKeys

KEYS = EditKeys()
LIMIT = 16

CASES = [
    # (line so far, typed, line after, outcome)
    (b"", b"abc", b"abc", None),
    (b"ab", b"c\r", b"abc", ENTER),
    (b"ab", b"c\n", b"abc", ENTER),
    (b"", b"\r", b"", ENTER),
    (b"", b"abc\rdef", b"abc", ENTER),  # what follows Enter is not taken
    (b"abc", b"\x7f", b"ab", None),  # DEL erases
    (b"abc", b"\x08", b"ab", None),  # Backspace erases
    (b"", b"\x7f\x7fab", b"ab", None),  # erase on an empty line does nothing
    ("é".encode(), b"\x7f", b"", None),  # a whole UTF-8 character
    ("a€".encode(), b"\x7f", b"a", None),
    (b"abc", b"\x15", b"", None),  # Ctrl-U: kill-line
    (b"abc", b"\x17x", b"x", None),  # Ctrl-W: the secret is one word
    (b"", b"\x04", b"", END_OF_INPUT),  # Ctrl-D on an empty line
    (b"ab", b"\x04c", b"abc", None),  # Ctrl-D in a line: nothing
    (b"ab", b"\x15\x04", b"", END_OF_INPUT),
    (b"ab", b"\x03", b"ab", INTERRUPT),  # Ctrl-C, should it arrive as a byte
    (b"", b"x" * LIMIT, b"x" * LIMIT, None),
    (b"", b"x" * (LIMIT + 1) + b"\r", b"x" * (LIMIT + 1), TOO_LONG),
    (b"x" * LIMIT, b"\x7fy\r", b"x" * (LIMIT - 1) + b"y", ENTER),
    (b"", b"\ttab\x1b", b"\ttab\x1b", None),  # other bytes are kept, for the checks to refuse
]


@pytest.mark.parametrize(("line", "typed", "after", "outcome"), CASES)
def test_editing_a_hidden_line(line, typed, after, outcome):
    assert lineedit.edit(line, typed, KEYS, LIMIT) == (after, outcome)


def test_a_paste_arriving_in_pieces_is_the_same_line():
    line, outcome = b"", None
    for piece in (b"abc", b"def\x7f", b"", b"g\r"):
        line, outcome = lineedit.edit(line, piece, KEYS, LIMIT)
    assert (line, outcome) == (b"abcdeg", ENTER)


@pytest.mark.parametrize(
    ("terminal", "typed", "after", "outcome"),
    [
        (EditKeys(erase=[0x23], kill=[0x40]), b"ab#c", b"ac", None),  # old-style # and @
        (EditKeys(erase=[0x23], kill=[0x40]), b"ab@c", b"c", None),
        (EditKeys(end=[0x1A]), b"\x1a", b"", END_OF_INPUT),  # another end-of-input key
        (EditKeys(interrupt=[0x7F]), b"a\x7f", b"a", INTERRUPT),  # DEL as interrupt wins
        (EditKeys(erase=[0x0D]), b"a\r", b"a", ENTER),  # Enter is never anything else
    ],
)
def test_the_terminals_own_keys_are_honoured(terminal, typed, after, outcome):
    assert lineedit.edit(b"", typed, terminal, LIMIT) == (after, outcome)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(b"\x7f", [0x7F]), (b"\x00", []), (b"\xff", []), (0, []), (8, [8]), (255, []), (b"", [])],
)
def test_a_terminals_control_character(value, expected):
    assert lineedit.control_byte(value) == expected
