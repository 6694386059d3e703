"""The fake Nexla server with a user in several orgs (docs/api-facts.md, organisations):
a token is in one org, named by `org` in every answer, and keeps it through a refresh; a
service key belongs to one org; the user record lists every membership and the default org.
"""

from __future__ import annotations

import pytest

# The project bans module-level `requests` imports for CLI start-up speed; tests are exempt.
import requests  # noqa: TID253

from tests.support.fake_nexla import DEFAULT_USER, FakeNexla

ACME = {"id": 7, "name": "Acme"}
GLOBEX = {"id": 8, "name": "Globex"}


@pytest.fixture
def http(nexla_server: FakeNexla):
    with requests.Session() as session:
        session.verify = nexla_server.ca_bundle
        session.trust_env = False
        yield session


def _current(server: FakeNexla, http, token: str) -> dict:
    r = http.get(
        f"{server.api_url}/users/current", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert r.status_code == 200
    return r.json()


def test_a_token_names_its_org_and_the_user_lists_every_membership(nexla_server, http):
    nexla_server.add_memberships(DEFAULT_USER, [ACME, GLOBEX], default_org=GLOBEX)
    for org in (ACME, GLOBEX):
        body = _current(nexla_server, http, nexla_server.sign_in(org=org))
        assert {k: body["org"][k] for k in ("id", "name")} == org
        assert body["org_membership"]["status"] == "ACTIVE"
        user = body["user"]
        assert [m["id"] for m in user["org_memberships"]] == [ACME["id"], GLOBEX["id"]]
        assert user["default_org"] == GLOBEX


def test_a_sign_in_without_an_org_lands_in_the_default_org(nexla_server, http):
    nexla_server.add_memberships(DEFAULT_USER, [ACME, GLOBEX], default_org=GLOBEX)
    assert _current(nexla_server, http, nexla_server.sign_in())["org"]["id"] == GLOBEX["id"]
    with pytest.raises(AssertionError):
        nexla_server.sign_in(org={"id": 99, "name": "Elsewhere"})


def test_a_refresh_keeps_the_org_and_a_key_mints_in_its_own(nexla_server, http):
    nexla_server.add_memberships(DEFAULT_USER, [ACME, GLOBEX])
    old = nexla_server.sign_in(org=GLOBEX)
    refreshed = http.post(
        f"{nexla_server.api_url}/token/refresh",
        headers={"Authorization": f"Bearer {old}", "Content-Length": "0"},
        timeout=5,
    ).json()
    assert refreshed["org"]["id"] == GLOBEX["id"]
    assert _current(nexla_server, http, refreshed["access_token"])["org"]["id"] == GLOBEX["id"]
    nexla_server.add_service_key("svc-acme", org=ACME)
    minted = http.post(
        f"{nexla_server.api_url}/token",
        headers={"Authorization": "Basic svc-acme", "Content-Length": "0"},
        timeout=5,
    ).json()
    assert minted["org"]["id"] == ACME["id"]
    assert [m["id"] for m in minted["user"]["org_memberships"]] == [ACME["id"], GLOBEX["id"]]
