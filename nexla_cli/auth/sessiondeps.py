"""What the session layer (signing in, renewal, keys, environments, hand-off) takes from a run:
its environment variables, its clock, where warnings go, the credential store, the OS
keyring and HTTP clients. Never the streams: this layer does not write to them.

A protocol, for the type checker only: `Deps` (deps.py, the composition root) satisfies it,
and tests may hand over any object that does. The session modules import this module under
TYPE_CHECKING, never deps.py, so the layers below the commands do not depend on the root
that builds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from nexla_cli.core.runtime import Notices
from nexla_cli.http.client import NexlaClient
from nexla_cli.storage.keys import Keyring
from nexla_cli.storage.store import CredentialStore


class SessionDeps(Protocol):
    environ: Mapping[str, str]
    notices: Notices

    def now(self) -> float: ...

    @property
    def store(self) -> CredentialStore: ...

    @property
    def keyring(self) -> Keyring: ...

    def client(self, api_url: str) -> NexlaClient: ...
