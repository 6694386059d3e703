"""Windows and macOS as the code sees them, simulated on Linux (docs/portability.md).

The code asks `sys.platform` when it runs, so a test that sets it runs the branch for that
system. Libraries that choose their own code for a platform when first imported (filelock's
lock, click's console) are imported before, as on Linux: only nexla's decisions are
simulated, never a library's.
"""

from __future__ import annotations

import sys

import pytest


def simulate(monkeypatch: pytest.MonkeyPatch, platform: str) -> None:
    """sys.platform is `platform` for the rest of the test."""
    import filelock  # noqa: F401
    import typer  # noqa: F401

    import nexla_cli.cli.root  # noqa: F401

    monkeypatch.setattr(sys, "platform", platform)


def windows_refusal(winerror: int | None = 32) -> PermissionError:
    """A PermissionError as CPython raises it on Windows: errno 13, winerror beside it
    (32: ERROR_SHARING_VIOLATION, 5: ERROR_ACCESS_DENIED)."""
    exc = PermissionError(13, "The process cannot access the file because it is being used")
    if winerror is not None:
        exc.winerror = winerror  # type: ignore[attr-defined]
    return exc
