"""`nexla env list --check` at scale and under Ctrl-C (docs/scripting.md, "Checking every
environment").

- Every signed-in environment is asked at once, up to environments.MAX_CONCURRENT_CHECKS (a few
  hundred), not a small fixed pool: 40 environments whose servers answer after a delay take
  about one delay, not three.
- Ctrl-C (SIGINT to the process) ends it promptly with exit 130, however long the servers
  take to answer: the checks in flight are abandoned, not waited for.
"""

from __future__ import annotations

import time

from tests.support.outcomes import describe
from tests.support.signing_in import seed_environments


def test_forty_environments_are_asked_at_once(nx):
    count, delay = 40, 2.0
    tokens = seed_environments(nx, count)
    nx.server.set_delay("GET", "/users/current", delay)
    started = time.monotonic()
    result = nx.run("env", "list", "--check")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, describe(result)
    requests = nx.server.find("GET", "/users/current")
    assert len(requests) == count
    assert {r.authorization for r in requests} == {f"Bearer {t}" for t in tokens.values()}
    # Every request arrived before the first answer went out: all at once. In batches of
    # 16 the last would have waited two delays for its turn.
    arrivals = [r.time for r in requests]
    assert max(arrivals) - min(arrivals) < delay, sorted(a - min(arrivals) for a in arrivals)
    assert elapsed < 2 * delay, elapsed
    assert result.stdout.count("[valid, token pasted]") == count
