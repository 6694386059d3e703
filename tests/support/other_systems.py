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


# The e2e modules that need what only POSIX systems have, and what that is. tests/conftest.py
# marks their tests `posix_only`, which a run on Windows skips with this reason. The other
# e2e modules start plain `nexla` processes and may run there (not tried: see
# docs/portability.md).
_PTY = "a pseudo-terminal (pexpect)"
POSIX_ONLY_E2E = {
    "test_api_hostile.py": f"{_PTY} and fcntl",
    "test_api_terminal.py": _PTY,
    "test_bad_input.py": f"{_PTY} and POSIX signals",
    "test_bounded_input.py": "sh and /dev files",
    "test_completion.py": f"bash and {_PTY}",
    "test_env_connect_check.py": _PTY,
    "test_env_interactive.py": f"{_PTY}, POSIX signals and file modes",
    "test_env_storage.py": "POSIX file modes and umask",
    "test_exec_signals.py": "POSIX signals and process groups",
    "test_fake_nexla.py": "SIGKILL and /proc",
    "test_faults_storage.py": "POSIX file modes and umask",
    "test_handoff_consumers.py": "bash and fork",
    "test_keyring.py": "the Secret Service over D-Bus",
    "test_keyring_item_garbage.py": "the Secret Service over D-Bus",
    "test_keyring_races.py": "the Secret Service over D-Bus and POSIX signals",
    "test_list_check_bounds.py": "SIGINT sent to a process",
    "test_network_size.py": "wait4() for the peak memory",
    "test_outputs_hostile.py": "sh and /dev/full",
    "test_pasted_token.py": _PTY,
    "test_prompt_tries.py": _PTY,
    "test_session_transaction.py": "SIGTERM, SIGHUP and SIGINT sent to a process",
    "test_startup.py": f"bash and {_PTY}",
    "test_storage_safety.py": "FIFOs and bash completion",
    "test_streams.py": "sh, /dev files and file modes",
    "test_stress.py": f"{_PTY} and POSIX signals",
    "test_token_exec.py": "sh, POSIX signals and /proc",
    "test_token_export.py": "sh and bash",
    "test_token_from_key.py": _PTY,
}


def posix_only_skip(reason: str | None, platform: str | None = None) -> str | None:
    """The skip reason for a test marked posix_only (with `reason`) on `platform`, None
    where it runs."""
    if reason is None or (platform or sys.platform) != "win32":
        return None
    return f"POSIX only: needs {reason}"
