"""`nexla env list --check` at scale and under Ctrl-C (docs/scripting.md, "Checking every
environment").

- Every signed-in environment is asked at once, up to environments.MAX_CONCURRENT_CHECKS (a few
  hundred), not a small fixed pool: 40 environments are all asked before any answers.
- Ctrl-C (SIGINT to the process) ends it promptly with exit 130, however long the servers
  take to answer: the checks in flight are abandoned, not waited for.
"""

from __future__ import annotations

import threading

from tests.support.fake_nexla import Fault
from tests.support.outcomes import describe
from tests.support.signing_in import seed_environments


def test_forty_environments_are_asked_at_once(nx):
    """Every answer is held until all 40 requests have arrived, so only a run that sends
    them all at once gets its answers: in batches (of 16, say) the 17th would never go out
    while the first 16 wait, and the answers would come only when the hold gives up."""
    count = 40
    tokens = seed_environments(nx, count)
    all_arrived = threading.Event()
    # All 40 must arrive within 2 s of the first, and a hold gives up after 4 s (within the
    # CLI's read timeout): a batched run is released by the hold giving up, not by the test.
    nx.server.add_fault("GET", "/users/current", Fault.held(all_arrived, seconds=4), times=None)

    def release_once_all_have_arrived() -> None:
        if nx.server.wait_for_count("GET", "/users/current", timeout=30) and (
            nx.server.wait_for_count("GET", "/users/current", n=count, timeout=2)
        ):
            all_arrived.set()

    releaser = threading.Thread(target=release_once_all_have_arrived)
    releaser.start()
    result = nx.run("env", "list", "--check")
    releaser.join()
    assert all_arrived.is_set(), "not every check was sent before the first answer"
    assert result.returncode == 0, describe(result)
    requests = nx.server.find("GET", "/users/current")
    assert len(requests) == count
    assert {r.authorization for r in requests} == {f"Bearer {t}" for t in tokens.values()}
    assert result.stdout.count("[valid, token pasted]") == count
