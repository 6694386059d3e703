"""`token exec` on Windows, simulated on Linux (docs/portability.md): what is passed on to
the command for each signal nexla receives, and which file is started for COMMAND.

The child is a stand-in whose send_signal is CPython's Windows one (subprocess.py,
`Popen.send_signal` under `if _mswindows`), line for line: SIGTERM terminates, CTRL_C_EVENT
and CTRL_BREAK_EVENT are sent, anything else, SIGINT included, is a ValueError. The command
search runs shutil.which's own Windows branch (PATHEXT, `;` between PATH entries). Nothing
here has run on Windows.
"""

from __future__ import annotations

import os
import shutil
import signal

import pytest

from nexla_cli.cli import tokenexec
from nexla_cli.cli.tokenexec import pass_on_as, resolve_command
from tests.support.other_systems import simulate

# Their values on Windows (signal.CTRL_C_EVENT and CTRL_BREAK_EVENT exist only there).
CTRL_C_EVENT = 0
CTRL_BREAK_EVENT = 1
SIGBREAK = 21


class WindowsChild:
    """A child as subprocess.Popen is on Windows, as far as signals go."""

    pid = 4242

    def __init__(self) -> None:
        self.returncode: int | None = None
        self.events: list[str] = []

    def send_signal(self, sig: int) -> None:
        # CPython's Windows Popen.send_signal, with os.kill's console events recorded.
        if self.returncode is not None:
            return
        if sig == signal.SIGTERM:
            self.terminate()
        elif sig == CTRL_C_EVENT:
            self.events.append("CTRL_C_EVENT")
        elif sig == CTRL_BREAK_EVENT:
            self.events.append("CTRL_BREAK_EVENT")
        else:
            raise ValueError("Unsupported signal: {}".format(sig))

    def terminate(self) -> None:
        # TerminateProcess(handle, 1)
        if self.returncode is None:
            self.events.append("TerminateProcess")
            self.returncode = 1


@pytest.fixture
def forwarder(monkeypatch):
    simulate(monkeypatch, "win32")
    installed = tokenexec._Forwarder()
    try:
        yield installed
    finally:
        installed.restore()


def test_a_ctrl_c_is_left_to_the_console_and_never_a_value_error(forwarder):
    child = WindowsChild()
    forwarder.child = child
    forwarder._handle(signal.SIGINT, None)  # the console sent CTRL_C_EVENT to both
    assert child.events == [] and child.returncode is None  # nexla goes on waiting


def test_a_sigterm_terminates_the_child(forwarder):
    child = WindowsChild()
    forwarder.child = child
    forwarder._handle(signal.SIGTERM, None)
    assert child.events == ["TerminateProcess"]


def test_a_ctrl_c_before_the_child_existed_terminates_it(forwarder):
    forwarder._handle(signal.SIGINT, None)  # no child yet: the console could not reach it
    child = WindowsChild()
    forwarder.child = child
    forwarder.deliver_pending()
    assert child.events == ["TerminateProcess"]


def test_a_child_that_already_ended_is_left_alone(forwarder):
    child = WindowsChild()
    child.returncode = 0
    forwarder.child = child
    forwarder._handle(signal.SIGTERM, None)
    assert child.events == []


@pytest.mark.parametrize(
    "signum, typed, platform, expected",
    [
        (signal.SIGINT, True, "win32", None),
        (SIGBREAK, True, "win32", None),
        (signal.SIGINT, False, "win32", signal.SIGTERM),
        (signal.SIGTERM, False, "win32", signal.SIGTERM),
        (signal.SIGINT, True, "linux", None),
        (signal.SIGINT, False, "linux", signal.SIGINT),
        (signal.SIGTERM, False, "darwin", signal.SIGTERM),
        (signal.SIGHUP, False, "linux", signal.SIGHUP),
    ],
)
def test_what_is_passed_on(signum, typed, platform, expected):
    assert pass_on_as(signum, typed, platform) == expected


def test_every_signal_passed_on_on_windows_is_one_windows_popen_accepts():
    for signum in (signal.SIGINT, signal.SIGTERM, SIGBREAK):
        for typed in (True, False):
            sent = pass_on_as(signum, typed, "win32")
            if sent is not None:
                WindowsChild().send_signal(sent)  # no ValueError


@pytest.fixture
def windows_path(monkeypatch, tmp_path):
    """Windows' command search: `;` between PATH entries, PATHEXT as Windows sets it. NTFS
    ignores case; this file system does not, so the files carry PATHEXT's spelling."""
    simulate(monkeypatch, "win32")
    monkeypatch.setattr(os, "pathsep", ";")
    monkeypatch.setenv("PATHEXT", ".COM;.EXE;.BAT;.CMD")
    # Python 3.12+ asks the Windows API whether to search the current directory first.
    monkeypatch.setattr(shutil, "_win_path_needs_curdir", lambda cmd, mode: False, raising=False)
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    return first, second


def _executable(path):
    path.write_text("")
    path.chmod(0o755)
    return str(path)


def test_a_cmd_file_is_found_through_pathext_on_the_childs_path(windows_path):
    first, second = windows_path
    npm = _executable(second / "npm.CMD")
    assert resolve_command("npm", {"PATH": f"{first};{second}"}) == npm


def test_the_childs_path_decides_in_its_order(windows_path):
    first, second = windows_path
    mine = _executable(first / "tool.EXE")
    _executable(second / "tool.EXE")
    assert resolve_command("tool", {"PATH": f"{first};{second}"}) == mine


def test_a_command_on_no_path_entry_is_none(windows_path):
    first, second = windows_path
    assert resolve_command("npm", {"PATH": f"{first};{second}"}) is None


def test_on_posix_the_name_is_left_to_subprocess():
    assert resolve_command("npm", {"PATH": "/nowhere"}, "linux") == "npm"
