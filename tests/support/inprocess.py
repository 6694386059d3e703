"""Running `nexla` inside the test process, through the same entry as the console script.

`run_in_process(args, env=…, input=…)` builds the run's Deps from the given environment
dict, in-memory stdin/stdout/stderr (with TTY flags the test chooses), a clock and the
timings, calls `nexla_cli.main.run`, and returns a `subprocess.CompletedProcess` exactly as
`subprocess.run(..., capture_output=True, text=True)` would, so a test reads the same
fields whichever way it ran. Nothing of the test process is patched: no os.environ, no
sys.stdout, no time.time().

What it cannot give is what a real process has: a terminal, signals from outside, file
descriptors closed at the OS level, resource limits, start-up time. Tests that need those
are marked `e2e` and run the installed `nexla` (tests/conftest.py picks the runner).
"""

from __future__ import annotations

import contextlib
import io
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from nexla_cli.core.runtime import Streams, Timing
from nexla_cli.deps import Deps
from nexla_cli.main import run

# The waits the in-process tier does not test are shortened: retries go out at once, with
# no backoff between them (a server's Retry-After is still honoured, and tested).
# tests/app/test_network_time.py checks the real backoff schedule with the product's Timing().
FAST = Timing(retry_backoff=0.0)


class _Captured(io.TextIOWrapper):
    """A text stream over bytes, like a process's stdout/stderr with its `.buffer`."""

    def __init__(
        self, encoding: str, tty: bool, data: bytes = b"", errors: str = "strict"
    ) -> None:
        super().__init__(io.BytesIO(data), encoding=encoding, errors=errors, newline=None)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty

    def captured(self) -> bytes:
        self.flush()
        return self.buffer.getvalue()  # type: ignore[attr-defined]


def run_in_process(
    args: list[str],
    *,
    env: Mapping[str, str],
    input: str | bytes | None = None,
    cwd: str | Path | None = None,
    clock: Callable[[], float] = time.time,
    timing: Timing = FAST,
    stdin_tty: bool = False,
    stdout_tty: bool = False,
    stderr_tty: bool = False,
    timeout: float = 60,
    text: bool = True,
) -> subprocess.CompletedProcess:
    """`nexla ARGS`, in this process; stdout and stderr captured as text, or with
    `text=False` as the bytes written (what subprocess.run gives without text=True).

    The streams are in the codec $PYTHONIOENCODING names (else UTF-8), stderr with
    backslashreplace, as the interpreter makes them; text is decoded from that codec.

    Like subprocess.run's timeout, `timeout` bounds the run: a regression that blocks (on a
    FIFO, an endless stdin) fails the test with subprocess.TimeoutExpired instead of hanging
    the worker.
    """
    encoding = (env.get("PYTHONIOENCODING") or "utf-8").split(":")[0] or "utf-8"
    data = input.encode("utf-8") if isinstance(input, str) else (input or b"")
    stdin = _Captured("utf-8", stdin_tty, data)
    stdout = _Captured(encoding, stdout_tty)
    stderr = _Captured(encoding, stderr_tty, errors="backslashreplace")
    streams = Streams(
        stdin, stdout, stderr, stdin_tty=stdin_tty, stdout_tty=stdout_tty, stderr_tty=stderr_tty
    )
    deps = Deps(
        dict(env), streams, clock=clock, timing=timing, cwd=Path(cwd) if cwd else None
    )
    argv = [str(arg) for arg in args]
    try:
        with _watchdog(argv, timeout):
            code = run(argv, deps)
    except SystemExit as exc:  # `token exec` ends with its command's status
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    if not text:
        return subprocess.CompletedProcess(
            ["nexla", *argv], code, stdout.captured(), stderr.captured()
        )
    return subprocess.CompletedProcess(
        ["nexla", *argv], code, _as_text(stdout, encoding), _as_text(stderr, encoding)
    )


def _as_text(stream: _Captured, encoding: str) -> str:
    # As subprocess.run(text=True) reads a child's output: decoded, universal newlines.
    text = stream.captured().decode(encoding)
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _Overrun(BaseException):
    """Raised in the main thread when a run outlives its timeout. A BaseException, so that
    the app's own `except Exception` (a bug becomes exit 1) does not swallow it."""


@contextlib.contextmanager
def _watchdog(argv: list[str], timeout: float):
    """SIGALRM after `timeout` seconds interrupts whatever the run blocks on (a read, a
    wait), as the kill of a subprocess would. Only in the main thread, where signals land,
    and where there is SIGALRM (not on Windows: there a run that hangs hangs the test)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def overrun(signum: int, frame: object) -> None:
        raise _Overrun()

    previous = signal.signal(signal.SIGALRM, overrun)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield
    except _Overrun:
        raise subprocess.TimeoutExpired(["nexla", *argv], timeout) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_bytes_in_process(nx, *args: str, stdin: bytes | None = None):
    """`nexla ARGS` in this process, with stdout and stderr as the bytes written (no
    decoding, no newline translation): what tests.support.processes.run_bytes gives, without
    starting a process."""
    return run_in_process(list(args), env=nx.env, input=stdin, cwd=nx.tmp_path, text=False)


def run_on_streams(
    args: list[str],
    *,
    env: Mapping[str, str],
    streams: Streams,
    cwd: str | Path | None = None,
    timing: Timing = FAST,
    timeout: float = 60,
) -> int:
    """`nexla ARGS` in this process on streams the caller made (a pseudo-terminal's stdin,
    one screen for stdout and stderr: tests/support/transcripts.py); its exit code."""
    deps = Deps(dict(env), streams, timing=timing, cwd=Path(cwd) if cwd else None)
    argv = [str(arg) for arg in args]
    try:
        with _watchdog(argv, timeout):
            return run(argv, deps)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
