"""`env remove` of an environment with several identities logs each out on the server at
once, so the lock is held for one request however many identities there are
(docs/sessions.md: the lock is held for one request, with its retries, at most)."""

from __future__ import annotations

import threading

from tests.support.fake_nexla import Fault
from tests.support.orgs import sign_in_to_both
from tests.support.outcomes import describe


def test_remove_tells_the_server_of_every_identity_at_once(nx):
    acme, globex = sign_in_to_both(nx)
    both_arrived = threading.Event()
    # Each logout is held until both have arrived (within 2 s of the first), and a hold
    # gives up after 4 s: one after the other, the second goes out only when the first's
    # hold gives up, and the test sees it.
    nx.server.add_fault("POST", "/token/logout", Fault.held(both_arrived, seconds=4), times=None)

    def release_once_both_have_arrived() -> None:
        if nx.server.wait_for_count("POST", "/token/logout", timeout=30) and (
            nx.server.wait_for_count("POST", "/token/logout", n=2, timeout=2)
        ):
            both_arrived.set()

    releaser = threading.Thread(target=release_once_both_have_arrived)
    releaser.start()
    result = nx.run("env", "remove", nx.server.host)
    releaser.join()
    assert both_arrived.is_set(), "the second logout waited for the first"
    assert result.returncode == 0, describe(result)
    sent = {r.authorization for r in nx.server.find("POST", "/token/logout")}
    assert sent == {f"Bearer {acme}", f"Bearer {globex}"}
    assert not nx.server.is_valid(acme) and not nx.server.is_valid(globex)
