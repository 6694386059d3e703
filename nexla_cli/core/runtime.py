"""What a run is made of below its composition root: the waits, the streams, and the notices
that lower layers leave for the command layer to print.

Built by `Deps` (deps.py, the composition root) and handed down piece by piece: the store
takes a `Notices`, the HTTP client a `Timing`, the output `Streams`. Imported on every run
(the `token print` fast path included), so it imports neither `typing` nor `dataclasses`:
plain classes, annotations for the type checker only.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO


class Timing:
    """How long nexla waits, in one place, so tests can shorten the waits they do not test.

    The defaults are the product's (docs/network.md). Only tests pass other values.
    """

    def __init__(
        self,
        *,
        retry_backoff: float = 0.5,
        max_retry_after: float = 10.0,
        host_lookup: float = 10.0,
        api_connect: float = 2.0,
        keyring_call: float = 3.0,
        spinner_delay: float = 0.3,
    ) -> None:
        # urllib3's backoff factor: the waits between retries are 0, 2x and 4x this (0, 1, 2 s).
        self.retry_backoff = retry_backoff
        # A server's Retry-After is honoured up to this many seconds.
        self.max_retry_after = max_retry_after
        # The host is looked up before the browser opens, for at most this long.
        self.host_lookup = host_lookup
        # Then the API's host and port are connected to, for at most this long in all.
        self.api_connect = api_connect
        # Each call into the OS keyring (D-Bus, Keychain) must answer within this.
        self.keyring_call = keyring_call
        # `nexla api` shows a spinner once a call has taken this long (on a terminal).
        self.spinner_delay = spinner_delay


def _isatty(stream: object) -> bool:
    try:
        return bool(stream is not None and stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False


class Streams:
    """stdin, stdout and stderr with their TTY flags. A stream may be None (closed)."""

    def __init__(
        self,
        stdin: TextIO | None,
        stdout: TextIO | None,
        stderr: TextIO | None,
        *,
        stdin_tty: bool = False,
        stdout_tty: bool = False,
        stderr_tty: bool = False,
    ) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.stdin_tty = stdin_tty
        self.stdout_tty = stdout_tty
        self.stderr_tty = stderr_tty

    @classmethod
    def system(cls) -> Streams:
        results_end_in_lf(sys.stdout)
        return cls(
            sys.stdin,
            sys.stdout,
            sys.stderr,
            stdin_tty=_isatty(sys.stdin),
            stdout_tty=_isatty(sys.stdout),
            stderr_tty=_isatty(sys.stderr),
        )


def results_end_in_lf(stdout: object, platform: str | None = None) -> None:
    """On Windows a text-mode stdout writes every "\\n" as "\\r\\n", and Git Bash keeps the
    "\\r" in `$(nexla token print)`: there stdout is told to write "\\n" as it is, so every
    result (the token, export lines, JSON, lists) ends lines the same on every system.
    Elsewhere "\\n" is already written as it is. Nothing has been written yet when this runs."""
    if (platform or sys.platform) != "win32":
        return
    reconfigure = getattr(stdout, "reconfigure", None)
    if reconfigure is None:  # replaced by something that is not a text file: left alone
        return
    try:
        reconfigure(newline="\n")
    except (ValueError, OSError):
        pass  # closed, or not reconfigurable: results are written as before


class Notices:
    """What the domain code wants said (warnings), handed to the command layer's printer.

    Session, store and key code never write to a stream: they call `warn`, and the sink
    the composition root installed (Deps: the run's Output.warn) prints it. Each text is said
    once per run, however often the store that noted it is read. `said` keeps them all, in
    order, for whoever asks afterwards.
    """

    def __init__(self, sink: Callable[[str], None] | None = None) -> None:
        self.sink = sink
        self.said: list[str] = []

    def warn(self, message: str) -> None:
        if message in self.said:
            return
        self.said.append(message)
        if self.sink is not None:
            self.sink(message)
