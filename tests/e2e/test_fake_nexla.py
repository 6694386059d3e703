"""The harness around the fake Nexla server, with a real `nexla` process: what keeps a
failed test's process from reaching the next test's server (tests/support/processes.py).
The fake server itself is tested in tests/app/test_fake_nexla.py."""

from __future__ import annotations

import signal
import subprocess
import sys

from tests.support.processes import end_leftover_cli_processes, nexla_executable


def test_leftover_cli_processes_are_ended_and_nothing_else(nx):
    """What keeps a failed test's `nexla` from reaching the next test's server."""
    cli = subprocess.Popen(  # waits for a token on a stdin that never ends
        [nexla_executable(), "env", "configure", nx.server.host, "--with-token"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=nx.env,
    )
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        end_leftover_cli_processes()
        assert cli.wait(timeout=5) == -signal.SIGKILL
        assert other.poll() is None
    finally:
        for proc in (cli, other):
            proc.kill()
            proc.wait()
