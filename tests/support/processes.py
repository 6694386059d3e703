"""`nexla` in child processes, for what the harness's `nx.run` does not do: run in the
background, in crowds, with bytes for output, under a file size limit, or measured.

Every one runs the installed console script (nexla_executable below) in the
test's environment (`nx.env` unless `env` is given) and its tmp_path.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


def nexla_executable() -> str:
    """The `nexla` console script of the interpreter running the tests, else the one on PATH.

    Looking next to sys.executable first tests the package installed in this venv, not
    whatever `nexla` happens to come first on PATH.
    """
    beside = Path(sys.executable).parent / "nexla"
    if beside.exists():
        return str(beside)
    found = shutil.which("nexla")
    if found is None:
        pytest.fail("the `nexla` console script is not installed (pip install -e .)")
    return found


def end_leftover_cli_processes() -> None:
    """Kill `nexla` processes this test started and left running (a failed test's).

    Against a server of its own such a process would have met a closed port after the
    test; against the shared server it could log requests into the next test. Linux only
    (it reads /proc); elsewhere nothing is done.
    """
    executable = nexla_executable().encode()
    for pid in _descendants(os.getpid()):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone already
        if executable in argv:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _descendants(root: int) -> list[int]:
    """Every live process below `root`, from /proc/PID/task/TID/children; [] without them."""
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        for listing in Path(f"/proc/{pid}/task").glob("*/children"):
            try:
                below = [int(child) for child in listing.read_text().split()]
            except OSError:
                continue  # the thread or process is gone
            found += below
            pending += below
    return found


# ---- in the background ------------------------------------------------------------------------


def start(nx, *args: str, env: dict | None = None, input: str | None = None) -> subprocess.Popen:
    """`nexla ARGS` in the background, output captured as text; stdin holds `input` (or is
    /dev/null)."""
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


def finish(proc: subprocess.Popen, timeout: float = 60) -> subprocess.CompletedProcess:
    """Wait for a process from start(); killed (and the test failed) if it takes too long."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def collect(procs: list[subprocess.Popen], timeout=120) -> list[subprocess.CompletedProcess]:
    """Wait for every process, results in the same order; all are killed if one takes too
    long."""
    results = []
    for proc in procs:
        try:
            results.append(finish(proc, timeout))
        except subprocess.TimeoutExpired:
            for other in procs:
                other.kill()
            raise
    return results


def run_together(
    nx, commands: list[tuple[str, ...]], env: dict[str, str] | None = None, timeout=120
) -> list[subprocess.CompletedProcess]:
    """Start every command at once, then wait for all; results in the order given."""
    return collect([start(nx, *args, env=env) for args in commands], timeout)


# ---- to the end, with a difference --------------------------------------------------------


def run_bytes(nx, *args: str, stdin: bytes | None = None, env: dict | None = None):
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


def _file_size_limit(limit: int):
    import resource  # POSIX only: imported where a limit is set, not by every e2e module

    def setup() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return setup


def run_with_file_limit(
    nx, limit: int, *args: str, env: dict | None = None, input: str | None = None
) -> subprocess.CompletedProcess:
    """`nexla ARGS` unable to grow any file beyond `limit` bytes (0: a full disk).

    The limit is RLIMIT_FSIZE with SIGXFSZ ignored, so a write that would grow a file fails
    with EFBIG exactly as it would with ENOSPC.
    """
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


# ---- measured: time and memory ------------------------------------------------------------


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


def maxrss_mib(maxrss: int, platform: str | None = None) -> float:
    """ru_maxrss in MiB: Linux and the BSDs give kilobytes, macOS bytes (getrusage(2))."""
    per_mib = 1024 * 1024 if (platform or sys.platform) == "darwin" else 1024
    return maxrss / per_mib


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
            peak_rss_mib=maxrss_mib(int(rss.read() or 0)),
        )
