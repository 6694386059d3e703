"""Time is bounded however slowly a server sends (docs/network.md, "Timeouts").

The server here trickles its answer a few bytes a second, so no single read ever waits
long enough to trip a socket timeout. With NEXLA_TIMEOUT=2 one attempt at a session
endpoint must end within 2 + 2 seconds of its start; the bounds asserted add room for
process start-up on a loaded machine, and stay far below what the trickle would take.
"""

from __future__ import annotations

import time

import pytest

from tests.fake_nexla import Fault
from tests.processes import collect, run_measured, start
from tests.signing_in import seed
from tests.stores import read_store, without_memo

TIMEOUT = "2"
ATTEMPT = 4.0  # connect + read timeout
SLACK = 10.0  # process start-up and a loaded machine


def slow_env(nx, **extra: str) -> dict:
    return nx.env_with(NEXLA_TIMEOUT=TIMEOUT, **extra)


def test_a_trickled_refresh_ends_within_one_attempt(nx):
    """A refresh answered one byte a second fails within connect + read timeout (exit 5),
    and only the remembered failure is stored."""
    seed(nx, lifetime=3600, age=3540)  # due, still valid
    before = read_store(nx.config_dir)
    nx.server.add_fault("POST", "/token/refresh", Fault.trickle(1))
    result = run_measured(nx, "token", "refresh", env=slow_env(nx))
    assert result.returncode == 5, result.stderr
    assert "did not answer within 4 seconds" in result.stderr
    assert result.seconds < ATTEMPT + SLACK, result.seconds
    assert nx.server.count("POST", "/token/refresh") == 1
    assert without_memo(read_store(nx.config_dir)) == before


def test_a_trickled_status_line_and_headers_end_within_one_attempt(nx):
    seed(nx, lifetime=3600, age=3540)
    nx.server.add_fault("POST", "/token/refresh", Fault.trickle(1, headers_too=True))
    result = run_measured(nx, "token", "refresh", env=slow_env(nx))
    assert result.returncode == 5, result.stderr
    assert result.seconds < ATTEMPT + SLACK, result.seconds


@pytest.mark.e2e  # four nexla processes at once
def test_a_crowd_behind_a_trickled_refresh_finishes_in_about_one_attempt(nx):
    """Four `token print` on a due, valid token while the refresh trickles: one attempt,
    then every process prints the current token (with a warning), none fails on the lock."""
    token = seed(nx, lifetime=3600, age=3540)
    nx.server.add_fault("POST", "/token/refresh", Fault.trickle(1), times=None)
    commands = [("token", "print")] * 4
    started = time.monotonic()
    results = collect([start(nx, *c, env=slow_env(nx)) for c in commands])
    elapsed = time.monotonic() - started
    assert [r.returncode for r in results] == [0] * 4, [r.stderr for r in results]
    assert {r.stdout for r in results} == {token + "\n"}
    assert nx.server.count("POST", "/token/refresh") == 1
    assert elapsed < ATTEMPT + 2 * SLACK, elapsed


def test_a_get_that_trickles_every_time_ends_within_its_attempts_and_backoff(nx):
    """GET /users/current is retried (3 times); each attempt is cut at its deadline, so the
    whole command ends within 4 attempts plus the backoff between them."""
    token = seed(nx)
    nx.server.add_fault("GET", "/users/current", Fault.trickle(1), times=None)
    result = run_measured(nx, "env", "show", "--check", env=slow_env(nx))
    assert result.returncode == 5, result.stderr
    assert token not in result.stderr
    assert nx.server.count("GET", "/users/current") == 4
    backoff = 0 + 1 + 2  # urllib3: 0.5 s x 2**n, the first retry at once
    assert result.seconds < 4 * ATTEMPT + backoff + SLACK, result.seconds


def test_api_headers_trickled_end_within_one_attempt(nx):
    seed(nx)
    nx.server.add_fault("POST", "/teams", Fault.trickle(1, headers_too=True))
    result = run_measured(nx, "api", "-X", "POST", "/teams", "-f", "name=x", env=slow_env(nx))
    assert result.returncode == 5, result.stderr
    assert result.seconds < ATTEMPT + SLACK, result.seconds
    assert nx.server.count("POST", "/teams") == 1


def test_api_body_may_take_longer_than_the_bound_while_it_keeps_coming(nx):
    """After the headers, `nexla api` bounds each pause by the read timeout, not the whole
    download: a body arriving 4 bytes a second for 6 seconds is received in full."""
    seed(nx)
    body = b'{"rows": "' + b"r" * 12 + b'"}'  # 24 bytes: 6 s at 4 bytes a second
    nx.server.add_fault("GET", "/teams", Fault.trickle(4, body))
    result = run_measured(nx, "api", "/teams", env=slow_env(nx))
    assert result.returncode == 0, result.stderr
    assert result.stdout == body
    assert result.seconds > ATTEMPT


def test_api_body_that_stalls_longer_than_the_read_timeout_is_exit_5(nx):
    seed(nx)
    body = b'{"rows": "' + b"r" * 30 + b'"}'
    nx.server.add_fault("GET", "/teams", Fault.trickle(0.2, body))  # a byte every 5 s
    result = run_measured(nx, "api", "/teams", env=slow_env(nx))
    assert result.returncode == 5, result.stderr
    assert "timed out" in result.stderr
    assert result.seconds < 2 * ATTEMPT + SLACK, result.seconds


def test_retries_wait_the_real_backoff_schedule(nx):
    """The product's own timing, not the shortened one of the in-process tier: a GET the
    server keeps answering 503 is sent 4 times, 0, 1 and 2 seconds apart (backoff factor
    0.5), then fails with exit 5 (docs/network.md, "Retries")."""
    from nexla_cli.deps import Timing
    from tests.inprocess import run_in_process

    token = nx.sign_in()
    nx.server.add_fault("GET", "/teams", Fault.status(503), times=None)
    result = run_in_process(["api", "/teams"], env=nx.env, timing=Timing(), cwd=nx.tmp_path)
    assert result.returncode == 5, result.stderr
    sent = [record.time for record in nx.server.find("GET", "/teams")]
    assert len(sent) == 4
    gaps = [later - earlier for earlier, later in zip(sent, sent[1:], strict=False)]
    assert gaps[0] < 0.5 and 0.9 <= gaps[1] < 1.9 and 1.9 <= gaps[2] < 3.5, gaps
    assert all(token in r.headers["authorization"] for r in nx.server.find("GET", "/teams"))
