"""A refresh or a mint is a transaction (docs/sessions.md, "Renewal is a transaction"),
in-process: a remembered failure dated in the future (the clock was set back) is stale, so
the session is renewed. Full disks and signals during a renewal need a real process:
tests/e2e/test_session_transaction.py."""

from __future__ import annotations

from tests.support.signing_in import seed
from tests.support.stores import edit_session, now


def test_a_failure_remembered_in_the_future_is_stale(nx):
    """The clock was set back after the failure was written: it is not a recent one."""
    old = seed(nx, lifetime=3600, age=3500)
    data_failure = {"at": now() + 3600, "kind": "unreachable", "message": "HTTP 500"}
    edit_session(nx, refresh_failure=data_failure)
    result = nx.ok("token", "print")
    assert nx.server.count("POST", "/token/refresh") == 1
    assert result.stdout.strip() == nx.server.issued[-1] != old
