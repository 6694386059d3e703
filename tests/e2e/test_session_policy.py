"""The e2e tier of tests/app/test_session_policy.py, whose docstring says what is promised: the
cases that need a real `nexla` process (a terminal, signals, several processes, what a fresh
interpreter loads)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support.outcomes import describe
from tests.support.processes import nexla_executable
from tests.support.stores import now, stored_session


# faketime (LD_PRELOAD)
@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime is not installed")
def test_a_sign_in_with_the_clock_ahead_is_renewed_on_the_real_clock(nx):
    token = nx.server.issue_token()
    signed_in = subprocess.run(
        [
            "faketime",
            "-f",
            "+2d",
            nexla_executable(),
            "env",
            "configure",
            nx.server.host,
            "--with-token",
        ],
        input=token + "\n",
        env=nx.env,
        cwd=nx.tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert signed_in.returncode == 0, describe(signed_in)
    assert stored_session(nx)["obtained_at"] > now() + 86400
    result = nx.ok("token", "print")
    assert nx.server.count("POST", "/token/refresh") == 1
    assert result.stdout.strip() == nx.server.issued[-1] != token
    assert stored_session(nx)["obtained_at"] <= now()
