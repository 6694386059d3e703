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
