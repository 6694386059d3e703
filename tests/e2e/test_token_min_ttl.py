"""The e2e tier of tests/app/test_token_min_ttl.py, whose docstring says what is promised: the
cases that need a real `nexla` process (a terminal, signals, several processes, what a fresh
interpreter loads)."""

from __future__ import annotations

from tests.support.outcomes import describe
from tests.support.processes import run_together
from tests.support.signing_in import signed_in_with_time_left

# Four processes at once, the refresh held long enough for the others to find the token
# short and wait for the lock behind it: the single-flight rule needs a crowd, not twelve
# (twelve is tests/e2e/test_token_concurrency.py's contract test).
MIN_TTL_CROWD = 4
REFRESH_HELD = 0.5


# several nexla processes at once
def test_crowd_asking_for_more_life_makes_one_refresh(nx):
    signed_in_with_time_left(nx, left=1000)
    nx.server.set_delay("POST", "/token/refresh", REFRESH_HELD)
    results = run_together(nx, [("token", "print", "--min-ttl", "1800")] * MIN_TTL_CROWD)
    assert all(r.returncode == 0 for r in results), describe(results)
    assert nx.server.count("POST", "/token/refresh") == 1
    assert {r.stdout for r in results} == {nx.server.issued[-1] + "\n"}


# several nexla processes at once
def test_crowd_asking_more_than_the_server_grants_renews_once(nx):
    # Those that waited for the lock take the renewed session rather than renewing again.
    signed_in_with_time_left(nx, left=1000)
    # Each must have read the short session before the renewed one is stored: a process
    # starting later finds a session shorter than asked and rightly renews it once itself.
    # So the refresh is held for longer than four processes take to start on a busy machine.
    nx.server.set_delay("POST", "/token/refresh", 2.0)
    results = run_together(nx, [("token", "print", "--min-ttl", "7200")] * MIN_TTL_CROWD)
    assert all(r.returncode == 2 for r in results), describe(results)
    assert nx.server.count("POST", "/token/refresh") == 1
