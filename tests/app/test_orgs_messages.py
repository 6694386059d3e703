"""Where an environment holds several identities, a renewal's error names whose session it
was (docs/signing-in.md, "Another org, another identity"); with one identity it names the
environment alone, as before."""

from __future__ import annotations

import time

from tests.support.orgs import ADA_IN_ACME, sign_in_to_both
from tests.support.stores import read_store, set_times, write_store_data


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


def test_status_hint_for_an_identity_not_active_names_its_org(nx):
    # Acme's estimated expiry has passed while Globex is active: the hint to refresh must
    # say --org, or following it would renew Globex and leave Acme as it was.
    sign_in_to_both(nx)
    data = read_store(nx.config_dir)
    record = data["environments"][nx.server.host]
    (acme,) = [each for each in record["other_identities"] if each["session"]["org"]["id"] == 7]
    acme["session"].update(expires_estimated=True, expires_at=int(time.time()) - 3600)
    write_store_data(nx.config_dir, data)
    result = nx.fails(4, "token", "status", "--org", "acme")
    assert f"`nexla token refresh --env {nx.server.host} --org 7`" in result.stderr
    nx.ok("token", "refresh", "--env", nx.server.host, "--org", "7")  # the hint, followed
    status = nx.ok("token", "status", "--org", "acme").stdout
    assert "valid session for Ada Lovelace <ada@example.com> in Acme (org 7)" in status
    assert "source: refreshed" in status
