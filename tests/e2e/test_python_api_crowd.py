"""Python processes sharing one session through the CLI (docs/python.md, "Many threads,
many processes"): three processes of four threads each, calling the API for several
session lifetimes, with `nexla token print` running beside them. No call fails, and each
due moment is met by one renewal for the whole crowd.

In tests/e2e: the single-flight between processes needs real processes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.stores import set_times

ROOT = Path(__file__).resolve().parents[2]
SHORT = 8  # seconds: the life of every session the fake server issues here; its margin (a
# quarter) leaves a busy machine two seconds to renew a due token before the server ends it
# (with 4 s, a machine loaded far beyond its cores now and then stalled the crowd past it)
LIFETIMES = 2  # how long the job runs, in session lifetimes
PROCESSES, THREADS = 3, 4


def start_job(nx, way: str, seconds: float = SHORT * LIFETIMES) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.python_api", way, str(seconds), str(THREADS)],
        env=nx.env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("way", ["NexlaAuth", "sdk_client"])
def test_a_crowd_of_python_processes_renews_once_per_due_moment(nx, way):
    if way == "sdk_client":
        pytest.importorskip("nexla_sdk")
    nx.server.default_lifetime = SHORT
    nx.sign_in(nx.server.issue_token(lifetime=SHORT))
    set_times(nx, lifetime=SHORT, left=SHORT)
    started = time.monotonic()
    jobs = [start_job(nx, way) for _ in range(PROCESSES)]
    printed = []
    while any(job.poll() is None for job in jobs):
        # The shell's way beside them: a token print now and then, same session.
        printed.append(nx.run("token", "print").returncode)
        time.sleep(0.3)
    results = [(job.returncode, *job.communicate(timeout=60)) for job in jobs]
    elapsed = time.monotonic() - started

    assert [(code, err) for code, _, err in results] == [(0, "")] * PROCESSES, results
    counts = [json.loads(out) for _, out, _ in results]
    assert all(count["failed"] == 0 and count["calls"] > 10 for count in counts), counts
    assert set(printed) == {0}
    renewed = [r.authorization for r in nx.server.find("POST", "/token/refresh")]
    # Each session renewed once, by one of the crowd: never two renewals of one session.
    assert len(set(renewed)) == len(renewed) >= LIFETIMES - 1
    # A quarter of a session's life is its margin, its times kept in whole seconds: at most
    # one renewal every SHORT / 4 seconds for the whole crowd (twelve threads, and the
    # prints), however many threads met each due moment.
    assert len(renewed) <= elapsed / (SHORT / 4) + 1
    # A call whose token another process's renewal ended on its way (this server ends the
    # old token at once) was answered 401 and sent again, renewed: counted once, succeeded.
    resent = nx.server.count("GET", "/users/current") - sum(c["calls"] for c in counts)
    assert 0 <= resent <= len(renewed) * PROCESSES * THREADS


def test_the_crowd_job_counts_failures(nx):
    # Without a session every call fails: the figures above are about something.
    nx.env["NEXLA_ACCESS_TOKEN"] = "tok-not-valid"
    nx.env["NEXLA_API_URL"] = nx.server.api_url
    job = start_job(nx, "NexlaAuth", seconds=1)
    out, err = job.communicate(timeout=60)
    assert job.returncode == 0, err
    count = json.loads(out)
    assert count["calls"] > 0 and count["failed"] == count["calls"]
