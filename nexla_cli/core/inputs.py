"""Secrets read from stdin or a file, read with a bound.

A token or a service key is a few KB at most. Input longer than MAX_INPUT_BYTES is refused
(exit 2) without reading on, so `--key-file /dev/zero` or an endless pipe into
`--with-token` ends at once instead of filling memory; and a pipe or FIFO is read only up
to the first non-blank line, so a writer that keeps it open does not hang nexla.
"""

from __future__ import annotations

import codecs
import os
import stat

from nexla_cli.core.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

MAX_INPUT_BYTES = 16 * 1024
# Blank lines before the secret, and blanks around it, are allowed up to this much in all.
_BUDGET = 2 * MAX_INPUT_BYTES


def _too_long(what: str) -> UsageError:
    return UsageError(
        f"the {what} is longer than {MAX_INPUT_BYTES // 1024} KiB: not read further, "
        "nothing was changed"
    )


def decode_text(data: bytes) -> str:
    """Text in the encoding its byte-order mark names (UTF-8, UTF-16 LE or BE), the mark
    dropped; UTF-8 without one. Notepad and PowerShell 5.1 write secrets with a mark
    (`>` in PowerShell 5.1 writes UTF-16). UnicodeDecodeError when it is no such text."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")  # the codec reads the mark and drops it
    return data.decode("utf-8")


def _decoded(data: bytes, what: str) -> str:
    try:
        return decode_text(data).strip()
    except UnicodeDecodeError:
        raise UsageError(
            f"the {what} is not text (UTF-8, or UTF-16 with a byte-order mark)"
        ) from None


def first_line(stream: BinaryIO, what: str) -> str:
    """The first non-blank line of a binary stream, stripped; "" at end of input.

    Reads at most about 32 KiB, one line at a time, and nothing after that line. A stream
    that starts with a UTF-16 byte-order mark is read as UTF-16 (first_utf16_line).
    """
    consumed = 0
    while consumed <= _BUDGET:
        line = stream.readline(MAX_INPUT_BYTES + 3)  # room for the secret, blanks and CRLF
        if not line:
            return ""
        if consumed == 0 and line.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return _first_utf16_line(stream, line, what)
        if consumed == 0 and line.startswith(codecs.BOM_UTF8):
            consumed, line = len(codecs.BOM_UTF8), line[len(codecs.BOM_UTF8) :]
        consumed += len(line)
        if not line.strip():
            continue
        if len(line.strip()) > MAX_INPUT_BYTES or len(line) > MAX_INPUT_BYTES + 2:
            raise _too_long(what)
        return _decoded(line, what)
    raise UsageError(
        f"no {what} in the first {_BUDGET // 1024} KiB, only blank lines: not read further"
    )


def _first_utf16_line(stream: BinaryIO, head: bytes, what: str) -> str:
    """The first non-blank line of a UTF-16 stream whose first bytes (and mark) are `head`.

    The stream is read a line of bytes at a time (in UTF-16 LE with the newline's second
    byte, which follows the 0A), bounded as UTF-8 input is, counted in bytes twice over.
    """
    decoder = codecs.getincrementaldecoder("utf-16")()
    text, chunk, consumed = "", head, 0
    while consumed <= 2 * _BUDGET:
        consumed += len(chunk)
        if consumed % 2 and chunk.endswith(b"\n"):
            # UTF-16 LE: that 0A is the first byte of a newline (0A 00). Its second byte is
            # read now, or the next readline would wait for a newline a writer that keeps
            # its end open never sends.
            rest = stream.read(1)
            chunk, consumed = chunk + rest, consumed + len(rest)
        try:
            text += decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            raise UsageError(f"the {what} is not UTF-16 text, though it starts like it") from None
        lines = text.split("\n")
        for line in lines[:-1] if chunk else lines:
            if len(line.strip()) > MAX_INPUT_BYTES:
                raise _too_long(what)
            if line.strip():
                return line.strip()
        if len(lines[-1].strip()) > MAX_INPUT_BYTES:
            raise _too_long(what)
        if not chunk:
            return ""
        chunk = stream.readline(MAX_INPUT_BYTES + 3)
    raise _too_long(what)


def read_file(path: str, what: str) -> str:
    """The secret in the file at path (as given: a link the user names is followed).

    A regular file is read whole (at most _BUDGET bytes); anything else (a FIFO, a device,
    `/dev/stdin`) up to its first non-blank line, bounded like stdin. OSError when it
    cannot be opened or read.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as stream:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return first_line(stream, what)
        if st.st_size > _BUDGET:
            raise _too_long(what)
        data = stream.read(_BUDGET + 1)
        if len(data) > _BUDGET:
            raise _too_long(what)
        return _decoded(data, what)
