"""`nexla env list --check` at scale and under Ctrl-C (docs/scripting.md, "Checking every
environment").

- Every signed-in environment is asked at once, up to environments.MAX_CONCURRENT_CHECKS (a few
  hundred), not a small fixed pool: 40 environments whose servers answer after a delay take
  about one delay, not three.
- Ctrl-C (SIGINT to the process) ends it promptly with exit 130, however long the servers
  take to answer: the checks in flight are abandoned, not waited for.
"""

from __future__ import annotations

import signal
import subprocess
import time

from tests.support.processes import nexla_executable
from tests.support.signing_in import seed_environments


# a real SIGINT to a real process
def test_ctrl_c_ends_the_checks_at_once_with_130(nx):
    seed_environments(nx, 3)
    # Answers that would take far longer than the test waits; every attempt is retried.
    nx.server.set_delay("GET", "/users/current", 60)
    proc = subprocess.Popen(
        [nexla_executable(), "env", "list", "--check"],
        env=nx.env,
        cwd=nx.tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert nx.server.wait_for_count("GET", "/users/current", 3, timeout=30)
        sent_at = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent_at
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, (proc.returncode, out, err)
    assert took < 3, took
    assert "Traceback" not in err, err


# ---- the runner itself -------------------------------------------------------------------
