"""The composition root: what a run of `nexla` takes from the world, made once and handed down.

The environment variables, the streams (with their TTY flags), the clock, the timings of
retries and waits, the credential store, the OS keyring and the HTTP client factory are
built here and nowhere else. `main.main` builds a `Deps` from the real process
(`Deps.from_process`); tests build one from a dict, in-memory streams and a clock of their
choosing, and run the very same code (tests/support/inprocess.py).

Only the entry points and the command layer see `Deps`. The layers below take the pieces
they need: the store its path, lock timeout and notices; the HTTP client an `HttpContext`;
the keyring a `Keyring`; the session layer the `SessionDeps` protocol, which `Deps`
satisfies. None of them imports this module (the import contracts in pyproject.toml).

Below the entry point nothing reads `os.environ`, `sys.stdout` or `time.time()` itself,
with one exception: a TAB press. The shell hands the words being completed over in
variables (`COMP_WORDS`, `_TYPER_COMPLETE_ARGS`, …) and reads the answer from stdout, so
fast/fastcomplete.py (and Typer's completion after it) reads both from the process.

The `token print` fast path builds one too, so this module imports neither `typing` nor
`dataclasses` (each costs several milliseconds a run): plain classes, annotations for the
type checker only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from nexla_cli.core.runtime import Notices, Streams, Timing

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nexla_cli.http.client import NexlaClient
    from nexla_cli.storage.keys import Keyring
    from nexla_cli.storage.store import CredentialStore
    from nexla_cli.ui.output import Output


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
        # -q/--quiet (NEXLA_QUIET=1 is read when asked): no messages on success.
        self.quiet = False
        # What lower layers want said goes to this run's stderr, through its Output.
        self.notices = Notices(sink=self._print_notice)
        # True when this run is the whole process (the `nexla` program): `token exec` may
        # then replace the process with its command. False for the app run inside
        # another program (the tests), which must go on afterwards.
        self.owns_process = False
        self._store: CredentialStore | None = None
        self._out: Output | None = None
        self._keyring: Keyring | None = None

    @classmethod
    def from_process(cls) -> Deps:
        deps = cls(os.environ, Streams.system())
        deps.owns_process = True
        return deps

    def now(self) -> float:
        return self.clock()

    def _print_notice(self, message: str) -> None:
        self.out.warn(message)

    @property
    def out(self) -> Output:
        """Messages on stderr, results on stdout, colour and spinners: see ui/output.py."""
        if self._out is None:
            from nexla_cli.ui.output import Output

            self._out = Output(
                self.streams, self.environ, debug=lambda: self.debug, quiet=self.is_quiet
            )
        return self._out

    def is_quiet(self) -> bool:
        """-q/--quiet on the line, or NEXLA_QUIET=1. A bad NEXLA_QUIET is an error of its
        own (exit 2, settings.check_all); until it is reported, nothing is left out."""
        if self.quiet:
            return True
        from nexla_cli.core import settings
        from nexla_cli.core.errors import UsageError

        try:
            return settings.quiet(self.environ)
        except UsageError:
            return False

    @property
    def store(self) -> CredentialStore:
        """The credential store in this run's config directory (built once, when needed)."""
        if self._store is None:
            from nexla_cli.core import paths, settings
            from nexla_cli.storage.store import (
                LOCK_TIMEOUT_SECONDS,
                CredentialStore,
                windows_account,
            )

            self._store = CredentialStore(
                paths.credentials_path(self.environ),
                lock_timeout=settings.lock_timeout(LOCK_TIMEOUT_SECONDS, self.environ),
                notices=self.notices,
                account=windows_account(self.environ),
            )
        return self._store

    @property
    def keyring(self) -> Keyring:
        """The OS keyring as this run reaches it (the library is loaded only on first use)."""
        if self._keyring is None:
            from nexla_cli.storage.keys import Keyring

            self._keyring = Keyring(self.environ, timeout=self.timing.keyring_call)
        return self._keyring

    def client(self, api_url: str) -> NexlaClient:
        """An HTTP client for the API at api_url, with this run's settings."""
        from nexla_cli.http.client import HttpContext, NexlaClient

        context = HttpContext(
            self.environ,
            self.timing,
            clock=self.clock,
            notices=self.notices,
            debug_log=self.out.debug if self.debug else None,
        )
        return NexlaClient(api_url, context)

    def path(self, given: str) -> str:
        """A path the user gave, relative to this run's working directory."""
        if self.cwd is None or os.path.isabs(given):
            return given
        return str(self.cwd / given)
