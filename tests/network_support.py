"""Helpers for the network bound tests: running `nexla` while measuring its time and memory."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass

from tests.conftest import nexla_executable


@dataclass
class Measured:
    returncode: int
    stdout: bytes  # the first `stdout_limit` bytes
    stdout_size: int
    stderr: str
    seconds: float
    peak_rss_mib: float


def run_measured(
    nx, *args: str, env: dict | None = None, timeout: float = 120, stdout_limit: int = 1 << 20
) -> Measured:
    """Run `nexla ARGS` to the end; its exit code, output, wall time and peak resident memory.

    The peak comes from wait4() for this one child (getrusage(RUSAGE_CHILDREN) would be the
    largest of every child the test run ever had). stdout goes to a file, so a large body
    costs the test nothing; only its first `stdout_limit` bytes are returned.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            [nexla_executable(), *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=nx.env if env is None else env,
            cwd=nx.tmp_path,
        )
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise AssertionError(f"nexla {' '.join(args)} ran longer than {timeout} s")
            time.sleep(0.02)
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
        size = out.seek(0, os.SEEK_END)
        out.seek(0)
        err.seek(0)
        return Measured(
            returncode=proc.returncode,
            stdout=out.read(stdout_limit),
            stdout_size=size,
            stderr=err.read().decode("utf-8", errors="replace"),
            seconds=seconds,
            peak_rss_mib=usage.ru_maxrss / 1024,  # kilobytes on Linux
        )
