"""Real terminals (pexpect) for tests of prompts, Ctrl-C and what reaches the screen."""

from __future__ import annotations

import time

import pexpect


def close_ended(child: pexpect.spawn, timeout: float = 30) -> None:
    """Close a child whose terminal has reached EOF once it has exited (its exit status is
    then known). pexpect's close() would first sleep a fixed 0.1 s for the kernel, then end
    a child still running by signals; one that has not exited within `timeout` still is."""
    deadline = time.monotonic() + timeout
    while child.isalive() and time.monotonic() < deadline:
        time.sleep(0.005)
    child.ptyproc.delayafterclose = 0
    child.close()


class Terminal:
    """`nexla ARGS` in a pseudo-terminal; everything it writes to the terminal is kept.

    `script` is the shell command line run in the terminal, {nexla} the command (a test of
    job control runs it under a shell)."""

    def __init__(self, nx, *args: str, env=None, script: str = "exec {nexla}") -> None:
        import io
        import shlex

        from tests.support.processes import nexla_executable

        self.transcript = io.StringIO()
        command = script.format(nexla=shlex.join([nexla_executable(), *args]))
        self.child = pexpect.spawn(
            "/bin/sh",
            ["-c", command],
            env=env or nx.env,
            cwd=str(nx.tmp_path),
            encoding="utf-8",
            timeout=30,
            dimensions=(24, 200),
        )
        self.child.logfile_read = self.transcript
        # pexpect waits 50 ms before each send for programs that show a password prompt
        # before turning echo off; nexla turns it off (and drops earlier input) first.
        self.child.delaybeforesend = None

    def expect(self, text: str) -> None:
        self.child.expect_exact(text)

    def type(self, line: str) -> None:
        self.child.sendline(line)

    def finish(self) -> int:
        self.child.expect(pexpect.EOF)
        close_ended(self.child)
        assert self.child.signalstatus is None
        return int(self.child.exitstatus)

    @property
    def output(self) -> str:
        return self.transcript.getvalue()
