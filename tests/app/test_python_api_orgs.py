"""The Python API with several identities on one environment (docs/python.md): `org=`
chooses one as --org does, else $NEXLA_ORG, else the active one; a NexlaAuth keeps the
identity it was made for."""

from __future__ import annotations

import pytest
import requests  # noqa: TID253 (tests are exempt from the start-up rule)

import nexla_cli
from tests.support.orgs import ACME, GLOBEX, sign_in_to_both
from tests.support.python_api import use_environment


@pytest.fixture
def two(nx, monkeypatch):
    tokens = sign_in_to_both(nx)
    use_environment(monkeypatch, nx.env)
    return nx, tokens


def test_get_token_org_is_what_token_print_org_prints(two, monkeypatch):
    nx, (acme, globex) = two
    assert nexla_cli.get_token(org="acme") == acme
    assert nexla_cli.get_token(nx.server.host, org="8") == globex
    assert nexla_cli.get_token() == globex
    monkeypatch.setenv("NEXLA_ORG", "Acme")
    assert nexla_cli.get_token() == acme
    with pytest.raises(nexla_cli.NexlaError) as raised:
        nexla_cli.get_token(org="initech")
    assert raised.value.exit_code == 3


def test_nexla_auth_sends_its_own_orgs_token(two):
    nx, (acme, globex) = two
    auth = nexla_cli.NexlaAuth(org="acme")
    nx.ok("env", "use", nx.server.host, "--org", "globex")  # another identity active now
    with requests.Session() as session:
        session.verify = nx.server.ca_bundle
        session.get(f"{nx.server.api_url}/users/current", auth=auth, timeout=10)
    assert nx.server.last("GET", "/users/current").authorization == f"Bearer {acme}"


def test_sdk_client_org(two):
    nx, _ = two
    client = nexla_cli.sdk_client(org="acme")
    assert client.users.get_current()["org"]["id"] == ACME["id"]
    assert nexla_cli.sdk_client(org="Globex").users.get_current()["org"]["id"] == GLOBEX["id"]
