"""Helpers for the network bound tests: running `nexla` while measuring its time and memory."""

from __future__ import annotations

import os
import subprocess
import sys
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


# Runs a command and writes its peak RSS (kilobytes) to the file named first. A child's peak
# includes whatever its parent held when it forked (Linux carries the old memory's high-water
# mark across exec, even for posix_spawn), so measuring from a test process that holds a
# server would report that process's size. This small launcher forks the command instead.
LAUNCHER = """
import os, signal, sys
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGKILL))
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) % 256)
"""


def launched(command: list, rss_file: str) -> list:
    """`command` run through LAUNCHER, its peak RSS written to rss_file."""
    return [sys.executable, "-c", LAUNCHER, rss_file, *command]


def run_measured(
    nx, *args: str, env: dict | None = None, timeout: float = 120, stdout_limit: int = 1 << 20
) -> Measured:
    """Run `nexla ARGS` to the end; its exit code, output, wall time and peak resident memory.

    The peak comes from wait4() in LAUNCHER (getrusage(RUSAGE_CHILDREN) would be the largest
    of every child the test run ever had). stdout goes to a file, so a large body costs the
    test nothing; only its first `stdout_limit` bytes are returned.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as rss,
    ):
        started = time.monotonic()
        proc = subprocess.Popen(
            launched([nexla_executable(), *args], rss.name),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=nx.env if env is None else env,
            cwd=nx.tmp_path,
        )
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()  # the launcher kills nexla, then ends
            proc.wait()
            raise AssertionError(f"nexla {' '.join(args)} ran longer than {timeout} s") from None
        seconds = time.monotonic() - started
        size = out.seek(0, os.SEEK_END)
        out.seek(0)
        err.seek(0)
        return Measured(
            returncode=proc.returncode,
            stdout=out.read(stdout_limit),
            stdout_size=size,
            stderr=err.read().decode("utf-8", errors="replace"),
            seconds=seconds,
            peak_rss_mib=int(rss.read() or 0) / 1024,  # kilobytes on Linux
        )
