"""A refresh or a mint is a transaction (docs/sessions.md, "Renewal is a transaction").

Before `POST /token/refresh` or `POST /token` is sent, room for the answer is reserved; if
there is none, nothing is sent. From the request until the answer is stored, SIGINT,
SIGTERM and SIGHUP wait. If storing still fails, the stored token is marked dead. Logging
out checks the same way before it ends the session on the server.
"""

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
