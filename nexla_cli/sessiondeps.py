"""What the session layer (signing in, renewal, keys, environments, hand-off) takes from a run.

A protocol, for the type checker only: `Deps` (deps.py, the composition root) satisfies it,
and tests may hand over any object that does. The session modules import this module under
TYPE_CHECKING, never deps.py, so the layers below the commands do not depend on the root
that builds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from nexla_cli.client import NexlaClient
from nexla_cli.keys import Keyring
from nexla_cli.runtime import Notices, Streams, Timing
from nexla_cli.store import CredentialStore


class SessionDeps(Protocol):
    environ: Mapping[str, str]
    streams: Streams
    timing: Timing
    notices: Notices
    cwd: Path | None

    def now(self) -> float: ...

    @property
    def store(self) -> CredentialStore: ...

    @property
    def keyring(self) -> Keyring: ...

    def client(self, api_url: str) -> NexlaClient: ...

    def path(self, given: str) -> str: ...
