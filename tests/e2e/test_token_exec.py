"""The e2e tier of tests/app/test_token_exec.py, whose docstring says what is promised: the cases
that need a real `nexla` process (a terminal, signals, several processes, what a fresh
interpreter loads)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

from tests.support.outcomes import describe
from tests.support.processes import nexla_executable

# Where the child's language matters: Python's view of a signal's disposition.
PY = sys.executable


def _exec(nx, *command: str, env=None, input=None, options=()):
    return nx.run("token", "exec", *options, "--", *command, env=env, input=input)


# /proc/*/cmdline
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_the_token_is_in_no_command_line(nx):
    token = nx.sign_in()
    # The shell's own command line, a newline, then its parent's. nexla has become the
    # shell (exec): the process that ran `nexla token exec` now shows COMMAND's line.
    show = 'cat /proc/$$/cmdline; echo; cat "/proc/$PPID/cmdline"'
    result = _exec(nx, "sh", "-c", show)
    assert result.returncode == 0, describe(result)
    own, parent = (line.replace("\0", " ") for line in result.stdout.split("\n", 1))
    assert own.startswith("sh -c ")  # the first one really is COMMAND's
    assert token not in own and token not in parent


# a real child on the real descriptors
def test_stdin_stdout_and_stderr_are_the_commands(nx):
    nx.sign_in()
    result = _exec(nx, "sh", "-c", "cat; echo E >&2", input="line one\nline two\n")
    assert result.returncode == 0, describe(result)
    assert result.stdout == "line one\nline two\n"
    assert result.stderr == "E\n"


# fd 3 opened by a shell
def test_descriptors_the_caller_opened_reach_the_command(nx):
    nx.sign_in()
    log = nx.tmp_path / "fd3.log"
    script = f"nexla token exec -- sh -c 'echo via-fd-3 >&3' 3>{log}"
    env = nx.env_with(PATH=f"{Path(nexla_executable()).parent}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    assert result.returncode == 0, describe(result)
    assert log.read_text() == "via-fd-3\n"


# Signals ---------------------------------------------------------------------------------

# The child ($1: the log, $2: the file it creates once ready) records each signal it gets,
# and exits 0 after SIGTERM/SIGHUP/SIGINT and a short while (so that a second copy of the
# signal would be recorded too). A trap runs once the `sleep` in progress ends: within 50 ms.
RECORDING_CHILD = """
trap 'echo SIGINT >> "$1"' INT
trap 'echo SIGTERM >> "$1"' TERM
trap 'echo SIGHUP >> "$1"' HUP
: > "$2"
i=0
while [ ! -s "$1" ] && [ "$i" -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.5
exit 0
"""

# Default actions for every signal, as most commands have: the shell becomes `sleep` once
# it has created the file named by $1.
DEFAULT_CHILD = ': > "$1"; exec sleep 30'


def _start_exec(nx, script: str, *args: str) -> subprocess.Popen:
    # A new session: no controlling terminal, as for a job signalled by its supervisor.
    return subprocess.Popen(
        [nexla_executable(), "token", "exec", "--", "sh", "-c", script, "sh", *args],
        env=nx.env,
        cwd=nx.tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the child did not start: {proc.communicate()}")
        time.sleep(0.05)


# real signals
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signal_is_passed_on_once_and_the_commands_status_returned(nx, signum):
    nx.sign_in()
    log, ready = nx.tmp_path / "signals.log", nx.tmp_path / "ready"
    proc = _start_exec(nx, RECORDING_CHILD, str(log), str(ready))
    _wait_for(ready, proc)
    os.kill(proc.pid, signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert log.read_text() == signal.Signals(signum).name + "\n"


# real signals
@pytest.mark.parametrize(
    "signum,expected", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
)
def test_command_killed_by_the_signal_passed_on_gives_128_plus_n(nx, signum, expected):
    # nexla has become COMMAND (exec): the process ends by the signal itself, which a shell
    # reports as 128+N (`expected`) and subprocess as -N.
    nx.sign_in()
    ready = nx.tmp_path / "ready"
    proc = _start_exec(nx, DEFAULT_CHILD, str(ready))
    _wait_for(ready, proc)
    os.kill(proc.pid, signum)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out, err) == (-signum, b"", b""), expected


# SIGINT ignored from exec on
def test_a_signal_ignored_by_the_caller_stays_ignored_in_the_command(nx):
    nx.sign_in()
    show = "import signal; print(signal.getsignal(signal.SIGINT) == signal.SIG_IGN)"
    result = subprocess.run(
        [nexla_executable(), "token", "exec", "--", PY, "-c", show],
        env=nx.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    assert (result.returncode, result.stdout) == (0, "True\n"), result.stderr


# a real terminal
def test_ctrl_c_at_a_terminal_reaches_the_command_once(nx):
    # The terminal signals the whole foreground group, nexla and the command alike; a copy
    # passed on by nexla would be a second Ctrl-C.
    nx.sign_in()
    log, ready = nx.tmp_path / "signals.log", nx.tmp_path / "ready"
    child = pexpect.spawn(
        nexla_executable(),
        ["token", "exec", "--", "sh", "-c", RECORDING_CHILD, "sh", str(log), str(ready)],
        env=nx.env,
        cwd=str(nx.tmp_path),
        timeout=60,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        child.sendintr()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, child.before
    assert log.read_text() == "SIGINT\n"
