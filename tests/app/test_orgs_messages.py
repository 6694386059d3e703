"""Where an environment holds several identities, a renewal's error names whose session it
was (docs/signing-in.md, "Another org, another identity"); with one identity it names the
environment alone, as before."""

from __future__ import annotations

from tests.support.orgs import ADA_IN_ACME, sign_in_to_both
from tests.support.stores import set_times


def test_a_dead_session_of_one_org_is_named_with_its_identity(nx):
    acme, _ = sign_in_to_both(nx)
    nx.server.expire(acme)
    result = nx.fails(4, "token", "refresh", "--org", "acme")
    assert f"the session for {ADA_IN_ACME} on {nx.server.host} has expired" in result.stderr


def test_with_one_identity_the_environment_alone_is_named(nx):
    token = nx.sign_in()
    set_times(nx, lifetime=3600, left=3600)
    nx.server.expire(token)
    result = nx.fails(4, "token", "refresh")
    assert f"the session for {nx.server.host} has expired" in result.stderr
