"""The bound docs/network.md states for a server that never answers, measured on a real
process with nothing shortened: attempts x (connect + read) + backoff, and the error says
how many attempts there were and how long each was allowed."""

from __future__ import annotations

import re
import time

from tests.support.fake_nexla import Fault


def test_a_hung_server_ends_within_the_stated_bound(api):
    api.server.add_fault("GET", "/flows", Fault.hang(60), times=None)
    started = time.monotonic()
    result = api.fails(5, "api", "/flows", env=api.env_with(NEXLA_TIMEOUT="1"))
    elapsed = time.monotonic() - started
    attempts, backoff, connect, read = 4, 0 + 1 + 2, 1, 1
    # Each attempt waited its read timeout (the connect is immediate on loopback) …
    assert elapsed >= attempts * read + backoff
    # … and the whole run stays within the bound, with room for starting Python.
    assert elapsed <= attempts * (connect + read) + backoff + 3, f"took {elapsed:.1f}s"
    said = re.search(r"(\d+) attempts over (\d+) s", result.stderr)
    assert said, result.stderr
    assert int(said.group(1)) == attempts
    assert abs(int(said.group(2)) - (attempts * read + backoff)) <= 1, result.stderr
