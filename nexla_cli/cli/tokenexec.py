"""`nexla token exec`: running COMMAND with the session's variables set.

The command layer's own: the process becomes COMMAND (or, where it cannot, starts it as a
child and passes signals on), and why COMMAND could not be run is said on stderr with the
exit status a shell gives (126, 127).
"""

import os
import signal
import subprocess
import sys
from typing import Any, Dict, List, Optional

from nexla_cli.auth.signals import STOP_SIGNALS
from nexla_cli.deps import Deps

# The signals `token exec` passes on to its command, and on Windows Ctrl-Break (SIGBREAK),
# which the console delivers to the command itself: nexla only waits for it.
FORWARDED_SIGNALS = STOP_SIGNALS + tuple(
    getattr(signal, name) for name in ("SIGBREAK",) if hasattr(signal, name)
)
# As shells report them.
EXIT_NOT_EXECUTABLE = 126
EXIT_NOT_FOUND = 127


# Running a command -------------------------------------------------------------------------


def run_command(deps: Deps, argv: List[str], variables: Dict[str, str]) -> int:
    """Run argv with the variables added to this environment; its exit status, as a shell
    gives it: 126 when it cannot be run, 127 when it is not found, 128+N when signal N
    killed it. stdin, stdout and stderr are shared.

    When this run is the whole process (the `nexla` program, not a test calling the app),
    the process becomes the command (exec), as `env`, `nice` and `direnv exec` do: every
    signal then reaches the command exactly as it was sent, once, whoever sent it to
    whichever processes (a terminal's Ctrl-C, `kill PID`, `kill -- -PGID`, `timeout`,
    systemd's control-group kill). A process that stayed around to pass signals on cannot
    tell a signal sent to it alone from one sent to its whole group, and would either drop
    the first or double the second. Elsewhere (Windows, the app run inside another
    program) the command runs as a child, and SIGINT, SIGTERM and SIGHUP are passed on
    (pass_on_as says which, and how on Windows).
    """
    environment = dict(deps.environ)
    environment.update(variables)
    for stream in (deps.streams.stdout, deps.streams.stderr):
        if stream is not None:
            stream.flush()
    if deps.owns_process and os.name == "posix":
        return _become_command(deps, argv, environment)
    return _run_child(deps, argv, environment)


# Python ignores these for itself; a command gets the default actions, as from a shell
# (subprocess restores them in a child the same way).
_SIGNALS_PYTHON_IGNORES = tuple(
    getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ") if hasattr(signal, name)
)


def _become_command(deps: Deps, argv: List[str], environment: Dict[str, str]) -> int:
    """Replace this process with the command; returns only when it cannot be run. Signal
    handlers this process installed go back to the default actions on exec, while a
    signal ignored when `nexla` started (`nohup`) stays ignored, as from a shell.
    Descriptors `nexla` opened itself are not inheritable and close; those the caller
    opened for the command (`3>log`, a make jobserver) stay open."""
    previous = {
        signum: signal.signal(signum, signal.SIG_DFL) for signum in _SIGNALS_PYTHON_IGNORES
    }
    try:
        os.execvpe(argv[0], argv, environment)
    except OSError as exc:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        return _cannot_run(deps, argv, exc)
    raise AssertionError("exec returned")  # pragma: no cover - exec never returns


def resolve_command(
    command: str, environment: Dict[str, str], platform: Optional[str] = None
) -> Optional[str]:
    """What to start for COMMAND as a child: on POSIX the name as it is (subprocess looks
    it up on the child's PATH); on Windows the file shutil.which finds on the child's PATH
    with PATHEXT (`npm` is `npm.cmd`, `az` is `az.cmd`), None when there is none. Windows'
    own search (CreateProcess) would look in nexla's installation directory before PATH,
    search the parent's PATH rather than the child's, and add nothing but `.exe`."""
    if (platform or sys.platform) != "win32":
        return command
    import shutil

    return shutil.which(command, path=environment.get("PATH", os.defpath))


def _run_child(deps: Deps, argv: List[str], environment: Dict[str, str]) -> int:
    # Handlers go in before the command starts, so no signal falls between the two; the
    # command itself starts with the default actions (exec resets caught signals).
    executable = resolve_command(argv[0], environment)
    if executable is None:
        return _cannot_run(deps, argv, FileNotFoundError(2, "not found", argv[0]))
    forwarder = _Forwarder()
    try:
        try:
            # close_fds=False: descriptors the caller opened for COMMAND (`3>log`, a make
            # jobserver) reach it as they would from a shell; this process's own are
            # non-inheritable anyway.
            child = subprocess.Popen(
                [executable, *argv[1:]], env=environment, close_fds=False, cwd=deps.cwd
            )
        except OSError as exc:
            return _cannot_run(deps, argv, exc)
        forwarder.child = child
        forwarder.deliver_pending()
        code = child.wait()
    finally:
        forwarder.restore()
    return 128 - code if code < 0 else code


def _cannot_run(deps: Deps, argv: List[str], exc: OSError) -> int:
    """Say why the command could not be started; the status a shell gives for that."""
    if isinstance(exc, FileNotFoundError):
        missing = "no such file" if os.sep in argv[0] or "/" in argv[0] else "command not found"
        deps.out.error(f"{argv[0]}: {missing}")
        return EXIT_NOT_FOUND
    if isinstance(exc, (PermissionError, IsADirectoryError, NotADirectoryError)):
        deps.out.error(f"{argv[0]}: permission denied (not an executable file)")
        return EXIT_NOT_EXECUTABLE
    deps.out.error(f"{argv[0]}: cannot run it: {exc.strerror or type(exc).__name__}")
    return EXIT_NOT_EXECUTABLE


class _Forwarder:
    """Signal handlers that pass SIGINT, SIGTERM and SIGHUP on to the child, where the
    command runs as a child (see run_command).

    A signal this process ignored when it started (`nohup`, a background job of a script) is
    left ignored, so the command inherits that as it would from a shell. A SIGINT typed at
    the terminal has already reached the command (the terminal signals the whole foreground
    process group), so it is not sent a second time: a command that cleans up on the first
    Ctrl-C must not be cut short by a copy.
    """

    def __init__(self) -> None:
        self.child: Optional[subprocess.Popen[bytes]] = None
        self._pending: List[int] = []
        self._previous: Dict[int, Any] = {}
        for signum in FORWARDED_SIGNALS:
            if signal.getsignal(signum) == signal.SIG_IGN:
                continue
            self._previous[signum] = signal.signal(signum, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        if self.child is None:
            self._pending.append(signum)
            return
        self._pass_on(signum)

    def deliver_pending(self) -> None:
        # These arrived before the command existed: nothing else can have reached it.
        for signum in self._pending:
            self._pass_on(signum, typed=False)
        self._pending.clear()

    def _pass_on(self, signum: int, typed: Optional[bool] = None) -> None:
        child = self.child
        if child is None:
            return
        if typed is None:
            typed = _typed(signum, child.pid)
        send = pass_on_as(signum, typed)
        if send is None:
            return
        try:
            child.send_signal(send)
        except (OSError, ValueError):
            pass  # it has just exited (wait() collects its status), or nothing can be sent

    def restore(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)


def pass_on_as(signum: int, typed: bool, platform: Optional[str] = None) -> Optional[int]:
    """The signal to send the child for `signum` received by nexla, None to send nothing.

    A Ctrl-C typed at the terminal (`typed`) has reached the child already. On Windows the
    console delivers Ctrl-C and Ctrl-Break to every process attached to it, the child
    included, so nexla just waits; and there Popen.send_signal knows only SIGTERM (which
    terminates the child, exit status 1), CTRL_C_EVENT and CTRL_BREAK_EVENT, so a Ctrl-C
    that arrived before the child existed, and a SIGTERM, terminate it.
    """
    if (platform or sys.platform) == "win32":
        if typed and signum != signal.SIGTERM:
            return None
        return signal.SIGTERM
    return None if typed else signum


def _typed(signum: int, child_pid: int) -> bool:
    """Whether the signal came from the terminal, to the child as well as to nexla."""
    if sys.platform == "win32":
        return signum != signal.SIGTERM  # Ctrl-C, Ctrl-Break: console events, to both
    return signum == signal.SIGINT and _terminal_signalled_the_child(child_pid)


def _terminal_signalled_the_child(child_pid: int) -> bool:
    """Whether a Ctrl-C typed at the terminal reached the child as well as this process:
    both in one process group, which is the terminal's foreground group."""
    if sys.platform == "win32" or not hasattr(os, "tcgetpgrp"):
        return False
    try:
        group = os.getpgrp()
        if os.getpgid(child_pid) != group:
            return False
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False  # no controlling terminal: the signal was sent to this process alone
    try:
        return os.tcgetpgrp(fd) == group
    except OSError:
        return False
    finally:
        os.close(fd)
