"""Time is bounded however slowly a server sends (docs/network.md, "Timeouts").

The answers here come a byte every PAUSE seconds, so no single read ever waits long enough
to trip a socket timeout. With NEXLA_TIMEOUT=0.5 one attempt at a session endpoint must
end within 0.5 + 0.5 seconds of its start; the bounds asserted add room for a loaded
machine (and for process start-up where a test starts processes), and stay far below what
the trickle would take.

The fake server's own trickle pauses half a second or more between steps, which would need
a read timeout of about a second; `PacedFront` (tests/support/paced_front.py) passes the
fake's answers on at the pace a test sets, so every wait here is a fraction of a second.
"""

from __future__ import annotations

import time

import pytest

from tests.support.fake_nexla import Fault
from tests.support.paced_front import (
    ATTEMPT,
    TIMEOUT,
    Pace,
    PacedFront,
    seed_behind,
    slow_env,
)
from tests.support.stores import read_store, without_memo

SLACK = 1.0  # in this process: a loaded machine's delays, no start-up


@pytest.fixture
def front(nx, ca):
    paced = PacedFront(ca, nx.server)
    yield paced
    paced.stop()


def timed_run(nx, *args: str):
    """`nexla ARGS` in this process with NEXLA_TIMEOUT; its result and its wall time."""
    began = time.monotonic()
    result = nx.run(*args, env=slow_env(nx))
    return result, time.monotonic() - began


def test_a_trickled_refresh_ends_within_one_attempt(nx, front):
    """A refresh answered a byte at a time fails within connect + read timeout (exit 5),
    and only the remembered failure is stored."""
    seed_behind(nx, front, lifetime=3600, age=3540)  # due, still valid
    before = read_store(nx.config_dir)
    result, seconds = timed_run(nx, "token", "refresh")
    assert result.returncode == 5, result.stderr
    assert f"did not answer within {ATTEMPT:g} seconds" in result.stderr
    assert seconds < ATTEMPT + SLACK, seconds
    assert nx.server.count("POST", "/token/refresh") == 1
    assert without_memo(read_store(nx.config_dir)) == before


def test_a_trickled_status_line_and_headers_end_within_one_attempt(nx, front):
    seed_behind(nx, front, lifetime=3600, age=3540)
    front.pace = Pace(headers_too=True)
    result, seconds = timed_run(nx, "token", "refresh")
    assert result.returncode == 5, result.stderr
    assert seconds < ATTEMPT + SLACK, seconds


def test_a_get_that_trickles_every_time_ends_within_its_attempts_and_backoff(nx, front):
    """GET /users/current is retried (3 times); each attempt is cut at its deadline, so the
    whole command ends within 4 attempts plus the backoff between them."""
    token = seed_behind(nx, front)
    result, seconds = timed_run(nx, "env", "show", "--check")
    assert result.returncode == 5, result.stderr
    assert token not in result.stderr
    assert nx.server.count("GET", "/users/current") == 4
    # In this process retries go out at once (tests/support/inprocess.py: FAST); the real 0, 1 and
    # 2 s pauses are tests/e2e/test_network_time.py::test_retries_wait_the_real_backoff_schedule's.
    backoff = 0
    assert seconds < 4 * ATTEMPT + backoff + SLACK, seconds


def test_api_headers_trickled_end_within_one_attempt(nx, front):
    seed_behind(nx, front)
    front.pace = Pace(headers_too=True)
    result, seconds = timed_run(nx, "api", "-X", "POST", "/teams", "-f", "name=x")
    assert result.returncode == 5, result.stderr
    assert seconds < ATTEMPT + SLACK, seconds
    assert nx.server.count("POST", "/teams") == 1


def test_api_body_may_take_longer_than_the_bound_while_it_keeps_coming(nx, front):
    """After the headers, `nexla api` bounds each pause by the read timeout, not the whole
    download: a body arriving a byte every PAUSE seconds for longer than the bound is
    received in full."""
    seed_behind(nx, front)
    body = b'{"rows": "rrr"}'  # 15 bytes: 1.4 s at a byte every 0.1 s, the bound being 1 s
    nx.server.add_fault("GET", "/teams", Fault.body(200, body))
    result, seconds = timed_run(nx, "api", "/teams")
    assert result.returncode == 0, result.stderr
    assert result.stdout.encode() == body
    assert seconds > ATTEMPT


def test_api_body_that_stalls_longer_than_the_read_timeout_is_exit_5(nx, front):
    seed_behind(nx, front)
    body = b'{"rows": "' + b"r" * 30 + b'"}'
    nx.server.add_fault("GET", "/teams", Fault.body(200, body))
    front.pace = Pace(pause=5 * TIMEOUT)  # each byte comes after five read timeouts
    result, seconds = timed_run(nx, "api", "/teams")
    assert result.returncode == 5, result.stderr
    assert "timed out" in result.stderr
    assert seconds < 2 * ATTEMPT + SLACK, seconds
