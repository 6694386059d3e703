"""A renewed session's lifetime counts from when it was asked for, not from when the answer
arrived (docs/sessions.md): the server's clock starts first, so a slow answer must never
make the token look longer-lived than the server will honour it."""

from __future__ import annotations

import time

import pytest

from tests.support.stores import stored_session

SLOW = 2.0  # seconds the server takes to answer


@pytest.mark.parametrize(
    "renew",
    [
        ("POST", "/token/refresh", ("token", "refresh")),
        ("POST", "/token", ("token", "from-key")),
    ],
    ids=["refresh", "from-key"],
)
def test_a_slow_answer_does_not_lengthen_the_session(nx, renew):
    method, path, command = renew
    nx.sign_in()
    nx.server.add_service_key("svc-key-slow")
    nx.server.set_delay(method, path, SLOW)
    asked_at = int(time.time())
    nx.ok(*command, env=nx.env_with(NEXLA_SERVICE_KEY="svc-key-slow"))
    session = stored_session(nx)
    assert session["obtained_at"] <= asked_at + 1 < asked_at + SLOW
    assert session["expires_at"] == session["obtained_at"] + nx.server.default_lifetime
