"""Helpers for the renewal tests (docs/sessions.md): a full disk, background runs, times.

A full disk is a file size limit (RLIMIT_FSIZE) set in the child with SIGXFSZ ignored, so
a write that would grow a file fails with EFBIG exactly as it would with ENOSPC.
"""

from __future__ import annotations

import resource
import signal
import subprocess
import time

from tests.conftest import nexla_executable


def _file_size_limit(limit: int):
    def setup() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return setup


def run_with_file_limit(
    nx, limit: int, *args: str, env: dict | None = None, input: str | None = None
) -> subprocess.CompletedProcess:
    """`nexla ARGS` unable to grow any file beyond `limit` bytes (0: a full disk)."""
    return subprocess.run(
        [nexla_executable(), *args],
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        env=env if env is not None else nx.env,
        cwd=nx.tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_file_size_limit(limit),
    )


def start(nx, *args: str, env: dict | None = None, input: str | None = None):
    """`nexla ARGS` in the background; stdin holds `input` (or is /dev/null)."""
    proc = subprocess.Popen(
        [nexla_executable(), *args],
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env if env is not None else nx.env,
        cwd=nx.tmp_path,
        text=True,
    )
    if input is not None:
        proc.stdin.write(input)
        proc.stdin.close()
        proc.stdin = None
    return proc


def finish(proc, timeout: float = 60) -> subprocess.CompletedProcess:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def now() -> int:
    return int(time.time())
