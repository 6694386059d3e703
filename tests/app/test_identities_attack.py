"""Identities under hostile conditions (README, "Several orgs"; docs/signing-in.md, "Another
org, another identity"; docs/file-format.md): a server whose answers leave out or bend who a
session is, hand-edited files, odd --org values. No saved key is lost, and one identity's
token or key is never used for another."""

from __future__ import annotations

import json

import pytest

from tests.support.fake_nexla import Fault
from tests.support.orgs import ACME_KEY, ADA, GLOBEX, GLOBEX_KEY, keys_for_both
from tests.support.stores import env_record


def _saved_keys(nx) -> list[object]:
    record = env_record(nx.config_dir, nx.server.host)
    found = [record.get("saved_key")]
    found += [other.get("saved_key") for other in record.get("other_identities", [])]
    return found


def test_a_refresh_answer_that_names_nobody_keeps_the_identity_and_both_keys(nx):
    # A server whose /token/refresh answers with a token alone (no user, no org): the
    # renewed session is still the identity it renewed, so the two never merge.
    keys_for_both(nx)
    for org in ("acme", "globex"):
        nx.server.add_fault(
            "POST",
            "/token/refresh",
            Fault.status(200, {"access_token": f"tok-bare-{org}", "expires_in": 3600}),
        )
        nx.ok("token", "refresh", "--org", org)
    keys = _saved_keys(nx)
    assert {"in": "file", "key": ACME_KEY} in keys
    assert {"in": "file", "key": GLOBEX_KEY} in keys
    assert nx.ok("token", "print", "--org", "acme").stdout == "tok-bare-acme\n"
    assert nx.ok("token", "print", "--org", "globex").stdout == "tok-bare-globex\n"


def test_a_renewal_answer_naming_another_identity_loses_neither_key(nx):
    # A server that answers Acme's refresh with a session it says is Globex's: Acme's
    # identity was known, so it is not merged into Globex's, and neither key is forgotten.
    keys_for_both(nx)
    nx.server.add_fault(
        "POST",
        "/token/refresh",
        Fault.status(
            200,
            {
                "access_token": "tok-bent",
                "expires_in": 3600,
                "user": dict(ADA),
                "org": dict(GLOBEX),
            },
        ),
    )
    nx.run("token", "refresh", "--org", "acme")
    keys = _saved_keys(nx)
    assert {"in": "file", "key": ACME_KEY} in keys
    assert {"in": "file", "key": GLOBEX_KEY} in keys


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"id": 1, "name": "One"}, {"id": True, "name": "Truth"}),
        ({"id": 7, "name": "Seven"}, {"id": 7.0, "name": "Seven point oh"}),
    ],
)
def test_org_ids_equal_only_to_python_are_two_identities(nx, first, second):
    # JSON's 1 and true, 7 and 7.0 are different ids; a token of one never replaces the
    # other's session, and --org never picks the other's token.
    one = nx.server.issue_token(ADA, first)
    nx.ok("env", "configure", nx.server.host, "--with-token", input=one + "\n")
    other = nx.server.issue_token(ADA, second)
    nx.ok("env", "login", "--with-token", input=other + "\n")
    record = env_record(nx.config_dir, nx.server.host)
    assert len(record.get("other_identities", [])) == 1
    assert nx.ok("token", "print", "--org", first["name"]).stdout == one + "\n"
    assert nx.ok("token", "print", "--org", second["name"]).stdout == other + "\n"
    assert nx.ok("token", "print", "--org", str(first["id"])).stdout == one + "\n"
    shown_id = json.dumps(second["id"])
    assert nx.ok("token", "print", "--org", shown_id).stdout == other + "\n"
