"""What a run of `nexla` takes from the world, made once and passed down.

The environment variables, the streams (with their TTY flags), the clock, the timings of
retries and waits, the credential store and the HTTP client factory all live on one `Deps`
object. `main.main` builds it from the real process (`Deps.from_process`); tests build one
from a dict, in-memory streams and a clock of their choosing, and run the very same code
(tests/support/inprocess.py). Below the entry point nothing reads `os.environ`, `sys.stdout` or
`time.time()` itself.

The `token print` fast path builds one too, so this module imports neither `typing` nor
`dataclasses` (each costs several milliseconds a run): plain classes, annotations for the
type checker only.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

    from nexla_cli.client import NexlaClient
    from nexla_cli.output import Output
    from nexla_cli.store import CredentialStore


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
        keyring_call: float = 3.0,
        spinner_delay: float = 0.3,
    ) -> None:
        # urllib3's backoff factor: the waits between retries are 0, 2x and 4x this (0, 1, 2 s).
        self.retry_backoff = retry_backoff
        # A server's Retry-After is honoured up to this many seconds.
        self.max_retry_after = max_retry_after
        # The host is looked up before the browser opens, for at most this long.
        self.host_lookup = host_lookup
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
        return cls(
            sys.stdin,
            sys.stdout,
            sys.stderr,
            stdin_tty=_isatty(sys.stdin),
            stdout_tty=_isatty(sys.stdout),
            stderr_tty=_isatty(sys.stderr),
        )


class Notices:
    """What the domain code wants said (warnings), handed to the command layer's printer.

    Session, store and key code never write to a stream: they call `warn`, and the sink
    the command layer installed (Output.warn, see Deps.out) prints it. Each text is said
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


class Deps:
    """One run's dependencies. `Deps.from_process()` in production; tests build their own."""

    def __init__(
        self,
        environ: Mapping[str, str],
        streams: Streams,
        *,
        clock: Callable[[], float] = time.time,
        timing: Timing | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.environ = environ
        self.streams = streams
        self.clock = clock
        self.timing = timing or Timing()
        # Where relative paths the user gives (--key-file, --input) are found; None: the
        # process's working directory.
        self.cwd = cwd
        # --debug or NEXLA_DEBUG=1: log HTTP exchanges (redacted) and tracebacks.
        self.debug = False
        self.notices = Notices()
        # Set once an OS keyring call has not returned in time: later calls fail at once.
        self.keyring_unanswered = False
        # Set when TAB completion offered environment names (the shell must not add files).
        self.completed_names = False
        self._store: CredentialStore | None = None
        self._out: Output | None = None

    @classmethod
    def from_process(cls) -> Deps:
        return cls(os.environ, Streams.system())

    def now(self) -> float:
        return self.clock()

    @property
    def out(self) -> Output:
        """Messages on stderr, results on stdout, colour and spinners: see output.py."""
        if self._out is None:
            from nexla_cli.output import Output

            self._out = Output(self)
            if self.notices.sink is None:
                self.notices.sink = self._out.warn
        return self._out

    @property
    def store(self) -> CredentialStore:
        """The credential store in this run's config directory (built once, when needed)."""
        if self._store is None:
            from nexla_cli import paths, settings
            from nexla_cli.store import LOCK_TIMEOUT_SECONDS, CredentialStore

            self.out  # noqa: B018 - the store's notices need their printer
            self._store = CredentialStore(
                paths.credentials_path(self.environ),
                lock_timeout=settings.lock_timeout(LOCK_TIMEOUT_SECONDS, self.environ),
                notices=self.notices,
            )
        return self._store

    def client(self, api_url: str) -> NexlaClient:
        """An HTTP client for the API at api_url, with this run's settings."""
        from nexla_cli.client import NexlaClient

        return NexlaClient(api_url, self)

    def path(self, given: str) -> str:
        """A path the user gave, relative to this run's working directory."""
        if self.cwd is None or os.path.isabs(given):
            return given
        return str(self.cwd / given)
