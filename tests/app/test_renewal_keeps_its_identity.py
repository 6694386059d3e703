"""A renewal keeps its user and org (docs/sessions.md, "When a session is renewed"): a
server that answers one identity's refresh with another identity's session gets exit 5,
and nothing is stored: neither identity's session nor key changes."""

from __future__ import annotations

from tests.support.fake_nexla import Fault
from tests.support.orgs import ADA, GLOBEX, keys_for_both
from tests.support.stores import read_store


def test_a_refresh_answered_with_another_orgs_session_stores_nothing(nx):
    keys_for_both(nx)
    before = read_store(nx.config_dir)
    nx.server.add_fault(
        "POST",
        "/token/refresh",
        Fault.status(
            200,
            {"access_token": "tok-bent", "expires_in": 3600, "user": ADA, "org": GLOBEX},
        ),
    )
    result = nx.fails(5, "token", "refresh", "--org", "acme")
    assert "with a session of ada@example.com in Globex (org 8); nothing was stored" in (
        result.stderr
    )
    assert "tok-bent" not in result.stdout + result.stderr
    assert read_store(nx.config_dir) == before
