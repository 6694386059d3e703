"""Helpers shared by the `nexla api` tests."""

from __future__ import annotations

import subprocess

from tests.conftest import Harness, nexla_executable


def run_bytes(nx: Harness, *args: str, stdin: bytes | None = None, env: dict | None = None):
    """Run `nexla ARGS` with stdout and stderr as bytes (no decoding, no newline translation)."""
    return subprocess.run(
        [nexla_executable(), *args],
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        env=nx.env if env is None else env,
        cwd=nx.tmp_path,
        capture_output=True,
        timeout=60,
    )
