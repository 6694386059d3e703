"""`nexla token exec`: every signal reaches COMMAND exactly once (docs/scripting.md, "Details").

A signal that reached COMMAND itself (typed at the terminal, sent to the process group, or
to every process of a service's control group) is not sent again; a signal sent to `nexla`
alone reaches COMMAND too, once, even while its process group owns the terminal.

COMMAND here is a real program that records every signal it gets and behaves as careful
programs do: the first signal starts a clean-up (about a second), a second one forces the
exit at once with status 3. A copy of a signal would show in its log and in its status.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

from tests.support.processes import nexla_executable

pytestmark = pytest.mark.e2e  # real processes, real signals, real terminals

RECORDER = """
import os, signal, sys, time

log, ready = sys.argv[1], sys.argv[2]
received = []

def note(signum, frame):
    received.append(signum)
    with open(log, "a") as out:
        out.write(signal.Signals(signum).name + "\\n")
    if len(received) > 1:
        os._exit(3)  # a second signal: no more patience

for name in ("SIGINT", "SIGTERM", "SIGHUP"):
    signal.signal(getattr(signal, name), note)
open(ready, "w").close()
deadline = time.monotonic() + 30
while not received and time.monotonic() < deadline:
    time.sleep(0.02)
cleanup_ends = time.monotonic() + 1.0  # cleaning up; a copy of the signal would land here
while time.monotonic() < cleanup_ends:
    time.sleep(0.02)
sys.exit(0 if received else 4)
"""


def _recorder(tmp_path: Path) -> tuple[list[str], Path, Path]:
    script = tmp_path / "recorder.py"
    script.write_text(RECORDER)
    log, ready = tmp_path / "signals.log", tmp_path / "ready"
    return [sys.executable, str(script), str(log), str(ready)], log, ready


def _wait_until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def _received(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def _start(nx, command: list[str], *, new_session: bool = True) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        env=nx.env,
        cwd=nx.tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=new_session,
    )


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, err.decode(errors="replace")


def _descendants_and_self(pid: int) -> list[int]:
    """pid and every process below it, from /proc (a control group's member list)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


# ---- sent to the process group, or to every process: not sent again ----------------------


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_sent_to_the_process_group_reaches_the_command_once(nx, signum):
    # `kill -- -PGID`, a supervisor stopping a job: nexla and COMMAND both get it.
    nx.sign_in()
    command, log, ready = _recorder(nx.tmp_path)
    proc = _start(nx, [nexla_executable(), "token", "exec", "--", *command])
    _wait_until(ready.exists)
    os.killpg(proc.pid, signum)
    code, err = _finish(proc)
    assert (_received(log), code) == ([signal.Signals(signum).name], 0), err


def test_a_signal_sent_to_every_process_reaches_the_command_once(nx):
    # systemd's control-group kill signals each process of the service, one by one.
    nx.sign_in()
    command, log, ready = _recorder(nx.tmp_path)
    proc = _start(nx, [nexla_executable(), "token", "exec", "--", *command])
    _wait_until(ready.exists)
    for pid in _descendants_and_self(proc.pid):
        os.kill(pid, signal.SIGTERM)
    code, err = _finish(proc)
    assert (_received(log), code) == (["SIGTERM"], 0), err


def test_timeout_reaches_the_command_once(nx):
    # coreutils `timeout` signals its command, then the whole process group it made. Its
    # time runs out when the recorder is ready: SIGALRM is how `timeout` itself learns that
    # its time is up, so the test does not guess how long a busy machine takes to start.
    nx.sign_in()
    command, log, ready = _recorder(nx.tmp_path)
    proc = _start(nx, ["timeout", "60", nexla_executable(), "token", "exec", "--", *command])
    _wait_until(ready.exists, timeout=60)
    os.kill(proc.pid, signal.SIGALRM)
    code, err = _finish(proc)
    assert _received(log) == ["SIGTERM"], err
    assert code == 124, err  # timeout's own status for a command it had to stop


# ---- sent to nexla alone: passed on, once, even while its group owns the terminal --------


def _spawn_on_a_terminal(nx, program: str, args: list[str]) -> pexpect.spawn:
    return pexpect.spawn(program, args, env=nx.env, cwd=str(nx.tmp_path), timeout=60)


def _close(child: pexpect.spawn) -> int:
    try:
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    return child.exitstatus if child.exitstatus is not None else 128 + child.signalstatus


def test_a_signal_sent_to_nexla_alone_on_a_terminal_is_passed_on_once(nx):
    nx.sign_in()
    command, log, ready = _recorder(nx.tmp_path)
    child = _spawn_on_a_terminal(nx, nexla_executable(), ["token", "exec", "--", *command])
    try:
        _wait_until(ready.exists)
        os.kill(child.pid, signal.SIGINT)  # `kill -INT <nexla's pid>` from elsewhere
    finally:
        code = _close(child)
    assert (_received(log), code) == (["SIGINT"], 0), child.before


def test_timeout_foreground_on_a_terminal_reaches_the_command_once(nx):
    # `timeout --foreground` signals its command alone (nexla), never the group.
    nx.sign_in()
    command, log, ready = _recorder(nx.tmp_path)
    args = ["--foreground", "-s", "INT", "60", nexla_executable(), "token", "exec", "--"]
    child = _spawn_on_a_terminal(nx, "timeout", [*args, *command])
    try:
        _wait_until(ready.exists, timeout=60)
        os.kill(child.pid, signal.SIGALRM)  # its time is up (see the test above)
        _wait_until(lambda: _received(log) or not child.isalive(), timeout=60)
    finally:
        code = _close(child)
    assert ready.exists(), child.before  # the command was running when the signal came
    assert _received(log) == ["SIGINT"], child.before
    assert code == 124, child.before


# ---- what COMMAND starts with ------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_the_command_starts_with_sigpipe_at_its_default_action(nx):
    # Python ignores SIGPIPE for itself; `yes | head -1` under token exec must still end
    # `yes` quietly, as from a shell. SigIgn is the mask of ignored signals (bit N-1).
    nx.sign_in()
    result = subprocess.run(
        [nexla_executable(), "token", "exec", "--", "grep", "^SigIgn:", "/proc/self/status"],
        env=nx.env,
        cwd=nx.tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    ignored = int(result.stdout.split()[1], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1)), result.stdout


def test_a_command_that_is_not_found_or_not_executable_is_127_or_126(nx):
    nx.sign_in()
    plain_file = nx.tmp_path / "not-a-program"
    plain_file.write_text("data\n")
    for command, code, message in [
        ("no-such-command-anywhere", 127, "command not found"),
        (str(plain_file), 126, "permission denied (not an executable file)"),
    ]:
        result = subprocess.run(
            [nexla_executable(), "token", "exec", "--", command],
            env=nx.env,
            cwd=nx.tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (result.returncode, result.stdout) == (code, ""), result.stderr
        assert result.stderr == f"error: {command}: {message}\n"
