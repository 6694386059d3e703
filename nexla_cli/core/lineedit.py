"""Editing a line typed at the hidden prompt, which reads without the terminal's own line
editing (pure: bytes in, bytes and an outcome out).

A terminal in canonical mode keeps at most one line's worth of input (Linux 4095 bytes,
macOS 1024) and drops the rest of a longer paste, Enter included. So the prompt switches
canonical mode off and does here what the terminal would: erase, kill-line, end of input
(on an empty line), interrupt, Enter.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

# How a line ended; None while it goes on.
ENTER = "enter"
END_OF_INPUT = "end of input"
INTERRUPT = "interrupt"
TOO_LONG = "too long"

_RETURNS = frozenset(b"\r\n")


class EditKeys:
    """The bytes that edit the line. Besides the terminal's own (its VERASE, VKILL, …),
    DEL and Backspace always erase, Ctrl-U and Ctrl-W always clear the line (a secret is
    one word), Ctrl-D ends input and Ctrl-C interrupts: no secret holds a control byte."""

    __slots__ = ("erase", "kill", "end", "interrupt")

    def __init__(
        self,
        erase: Iterable[int] = (),
        kill: Iterable[int] = (),
        end: Iterable[int] = (),
        interrupt: Iterable[int] = (),
    ) -> None:
        self.interrupt = frozenset({0x03, *interrupt}) - _RETURNS
        self.end = frozenset({0x04, *end}) - _RETURNS - self.interrupt
        self.kill = frozenset({0x15, 0x17, *kill}) - _RETURNS - self.interrupt - self.end
        self.erase = frozenset({0x7F, 0x08, *erase}) - _RETURNS - self.interrupt - self.end
        self.erase -= self.kill


def control_byte(value: object) -> list[int]:
    """A terminal's control character (termios gives bytes, or an int) as a list of zero or
    one byte value; a disabled one (0, or 0xff on macOS) as none."""
    if isinstance(value, bytes) and len(value) == 1:
        value = value[0]
    if isinstance(value, int) and 0 < value < 0xFF:
        return [value]
    return []


def edit(line: bytes, typed: bytes, keys: EditKeys, limit: int) -> tuple[bytes, str | None]:
    """The line after `typed` arrived, and how it ended (None: it goes on).

    Bytes after the one that ended it are not looked at. Over `limit` bytes is TOO_LONG at
    once; end of input counts only on an empty line, as a terminal's does.
    """
    edited = bytearray(line)
    for byte in typed:
        if byte in _RETURNS:
            return bytes(edited), ENTER
        if byte in keys.interrupt:
            return bytes(edited), INTERRUPT
        if byte in keys.end:
            if not edited:
                return b"", END_OF_INPUT
        elif byte in keys.kill:
            edited.clear()
        elif byte in keys.erase:
            _erase_one_character(edited)
        else:
            edited.append(byte)
            if len(edited) > limit:
                return bytes(edited), TOO_LONG
    return bytes(edited), None


def _erase_one_character(edited: bytearray) -> None:
    # A UTF-8 character is one lead byte and its continuation bytes (0b10xxxxxx).
    while edited and 0x80 <= edited[-1] <= 0xBF:
        edited.pop()
    if edited:
        edited.pop()
