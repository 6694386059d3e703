"""The e2e tier of tests/app/test_api_auth.py, whose docstring says what is promised: the cases
that need a real `nexla` process (a terminal, signals, several processes, what a fresh
interpreter loads)."""

from __future__ import annotations

import json
import subprocess

from tests.support.fake_nexla import TEAMS, Fault
from tests.support.inprocess import run_in_process
from tests.support.processes import nexla_executable


def bearer(token: str) -> str:
    return f"Bearer {token}"


# two nexla processes at once
def test_a_401_after_another_process_renewed_uses_its_token_without_refreshing(api):
    # The call is held by the server while another process refreshes the session (which
    # kills the old token); the call is then refused, and the renewed token is used. The
    # refresh runs in the test's process, which on two busy cores has taken up to about
    # two seconds (its first request imports the HTTP stack): the call is held that long.
    api.server.set_delay("GET", "/teams", 2)
    api.server.add_fault("GET", "/teams", Fault.status(401))
    call = subprocess.Popen(
        [nexla_executable(), "api", "/teams"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=api.env,
        cwd=api.tmp_path,
    )
    try:
        assert api.server.wait_for_count("GET", "/teams", 1, timeout=30)
        api.server.set_delay("GET", "/teams", 0)
        refreshed = run_in_process(["token", "refresh", "--print"], env=api.env, cwd=api.tmp_path)
        assert refreshed.returncode == 0, refreshed.stderr
        stdout, stderr = call.communicate(timeout=60)
    finally:
        call.kill()
    assert call.returncode == 0, stderr
    assert json.loads(stdout) == TEAMS
    new_token = refreshed.stdout.strip()
    calls = api.server.find("GET", "/teams")
    assert [c.authorization for c in calls] == [bearer(api.token), bearer(new_token)]
    assert api.server.count("POST", "/token/refresh") == 1  # the other process's only
