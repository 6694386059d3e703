"""Colour on Windows consoles (docs/portability.md): nexla writes its own escape sequences
(`warning:`, `error:`), which a legacy console prints as `←[33m` unless asked to take them
(SetConsoleMode, ENABLE_VIRTUAL_TERMINAL_PROCESSING). It asks once; where that fails the
text goes out plain.

Simulated: sys.platform "win32", and msvcrt and kernel32's GetConsoleMode/SetConsoleMode
stood in for by fakes answering as each kind of console would. Nothing here has run on
Windows.
"""

from __future__ import annotations

import ctypes
import io
import sys
import types

import pytest

from nexla_cli.core.runtime import Streams
from nexla_cli.ui import output
from nexla_cli.ui.output import ENABLE_VIRTUAL_TERMINAL_PROCESSING, Output, console_takes_escapes
from tests.support.other_systems import simulate

VT = ENABLE_VIRTUAL_TERMINAL_PROCESSING


class Console:
    """kernel32 as a console answers: its mode (None: not a console), and whether it takes
    VT processing when asked (False: a console older than Windows 10)."""

    def __init__(self, mode: int | None, takes_vt: bool = True) -> None:
        self.mode = mode
        self.takes_vt = takes_vt
        self.set_to: list[int] = []

    def GetConsoleMode(self, handle, mode_ref) -> int:  # noqa: N802 (the API's name)
        if self.mode is None:
            return 0
        mode_ref._obj.value = self.mode
        return 1

    def SetConsoleMode(self, handle, mode) -> int:  # noqa: N802
        self.set_to.append(mode)
        if not self.takes_vt:
            return 0
        self.mode = mode
        return 1


class FakeStderr(io.StringIO):
    def fileno(self) -> int:
        return 2


@pytest.fixture
def console(monkeypatch):
    def install(mode: int | None, takes_vt: bool = True) -> Console:
        kernel32 = Console(mode, takes_vt)
        simulate(monkeypatch, "win32")
        fake_msvcrt = types.ModuleType("msvcrt")
        fake_msvcrt.get_osfhandle = lambda fd: 1000 + fd  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "msvcrt", fake_msvcrt)
        windll = types.SimpleNamespace(kernel32=kernel32)
        monkeypatch.setattr(ctypes, "windll", windll, raising=False)
        return kernel32

    return install


@pytest.mark.parametrize(
    "mode, takes_vt, expected, asked",
    [
        (0x0003 | VT, True, True, []),  # Windows Terminal, VS Code: already on
        (0x0003, True, True, [0x0003 | VT]),  # conhost on Windows 10+: turned on
        (0x0003, False, False, [0x0003 | VT]),  # an older console: refuses
        (None, True, False, []),  # not a console (a file, a pipe, mintty's pipes)
    ],
)
def test_the_console_is_asked_once_to_take_escapes(console, mode, takes_vt, expected, asked):
    kernel32 = console(mode, takes_vt)
    assert console_takes_escapes(FakeStderr()) is expected
    assert kernel32.set_to == asked


def test_elsewhere_a_terminal_takes_them():
    assert console_takes_escapes(FakeStderr()) is True


def _warn_on_a_console() -> str:
    stderr = FakeStderr()
    out = Output(Streams(None, None, stderr, stderr_tty=True), {}, debug=lambda: False)
    out.warn("careful")
    out.error("failed")
    return stderr.getvalue()


def test_a_console_that_refuses_gets_plain_text(console):
    console(0x0003, takes_vt=False)
    assert _warn_on_a_console() == "warning: careful\nerror: failed\n"


def test_a_console_that_takes_them_gets_colour(console):
    console(0x0003)
    assert "\033[33mwarning:\033[0m careful" in _warn_on_a_console()


def test_the_console_is_asked_once_a_run(monkeypatch):
    asked: list[object] = []

    def takes(stream: object) -> bool:
        asked.append(stream)
        return True

    monkeypatch.setattr(output, "console_takes_escapes", takes)
    _warn_on_a_console()
    assert len(asked) == 1
