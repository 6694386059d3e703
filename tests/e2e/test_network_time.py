"""The e2e tier of tests/app/test_network_time.py, whose docstring says what is promised: the cases
that need a real `nexla` process (a terminal, signals, several processes, what a fresh
interpreter loads)."""

from __future__ import annotations

import time

import pytest

from tests.support.fake_nexla import Fault
from tests.support.paced_front import (
    ATTEMPT,
    PacedFront,
    seed_behind,
    slow_env,
)
from tests.support.processes import collect, start

STARTING_SLACK = 4.0  # processes started by the test: their start-up on two busy cores


@pytest.fixture
def front(nx, ca):
    paced = PacedFront(ca, nx.server)
    yield paced
    paced.stop()


# four nexla processes at once
def test_a_crowd_behind_a_trickled_refresh_finishes_in_about_one_attempt(nx, front):
    """Four `token print` on a due, valid token while the refresh trickles: one attempt,
    then every process prints the current token (with a warning), none fails on the lock."""
    token = seed_behind(nx, front, lifetime=3600, age=3540)
    commands = [("token", "print")] * 4
    results = collect([start(nx, *c, env=slow_env(nx)) for c in commands])
    ended = time.time()
    assert [r.returncode for r in results] == [0] * 4, [r.stderr for r in results]
    assert {r.stdout for r in results} == {token + "\n"}
    assert nx.server.count("POST", "/token/refresh") == 1
    # Counted from the one attempt: the processes' start-up before it is not the bound's.
    attempt = nx.server.find("POST", "/token/refresh")[0].time
    assert ended - attempt < ATTEMPT + STARTING_SLACK, ended - attempt


def test_retries_wait_the_real_backoff_schedule(nx):
    """A real process, as it waits between retries with nothing shortened: a GET the server
    keeps answering 503 is sent 4 times, 0, 1 and 2 seconds apart (backoff factor 0.5), then
    fails with exit 5 (docs/network.md, "Retries"). Its subject is wall-clock time (3 s of
    it), so it is not in the in-process tier, whose runs wait nothing between retries."""
    token = nx.sign_in()
    nx.server.add_fault("GET", "/teams", Fault.status(503), times=None)
    result = nx.run("api", "/teams")
    assert result.returncode == 5, result.stderr
    sent = [record.time for record in nx.server.find("GET", "/teams")]
    assert len(sent) == 4
    gaps = [later - earlier for earlier, later in zip(sent, sent[1:], strict=False)]
    assert gaps[0] < 0.5 and 0.9 <= gaps[1] < 1.9 and 1.9 <= gaps[2] < 3.5, gaps
    assert all(token in r.headers["authorization"] for r in nx.server.find("GET", "/teams"))
