"""The CLI against answers shaped as Nexla's API server gives them (docs/api-facts.md):
a pasted JWT's expiry, impersonated sessions, empty-bodied errors, `org: null`, and the
org membership's API key that must never be kept or shown."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.support.fake_nexla import ADMIN_USER, DEFAULT_USER, MEMBERSHIP_API_KEY_PREFIX, Fault
from tests.support.outcomes import describe
from tests.support.signing_in import from_key
from tests.support.stores import config_contains, stored_session

ADA = f"{DEFAULT_USER['full_name']} <{DEFAULT_USER['email']}>"
GRACE = f"{ADMIN_USER['full_name']} <{ADMIN_USER['email']}>"


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


# ---- a pasted token's expiry --------------------------------------------------------------


def test_a_pasted_jwt_expires_when_its_exp_says(nx):
    token = nx.server.issue_token(lifetime=1800, jwt=True)
    exp = int(nx.server.token_info(token).expires_at)
    result = nx.ok("env", "configure", nx.server.host, "--with-token", input=token + "\n")
    assert f"expires in 29m ({iso(exp)}, from the token)" in result.stderr
    session = stored_session(nx)
    assert session["expires_at"] == exp and session["expires_estimated"] is False

    status = nx.ok("token", "status", "--json")
    report = json.loads(status.stdout)
    assert (report["expires_at"], report["expiry_source"]) == (iso(exp), "token")
    assert report["expires_estimated"] is False
    text = nx.run("token", "status").stdout
    assert ", from the token)" in text and "estimated" not in text

    shown = json.loads(nx.run("env", "show", "--json").stdout)
    assert (shown["expires_at"], shown["expiry_source"]) == (iso(exp), "token")
    assert "from the token" in nx.run("env", "show").stdout


def test_an_opaque_token_is_still_an_estimated_hour(nx):
    nx.sign_in()
    report = json.loads(nx.run("token", "status", "--json").stdout)
    assert report["expiry_source"] == "estimate" and report["expires_estimated"] is True
    assert 3590 <= report["expires_in"] <= 3600
    assert ", estimated)" in nx.run("token", "status").stdout
    assert json.loads(nx.run("env", "show", "--json").stdout)["expiry_source"] == "estimate"


def test_sessions_from_the_server_say_so(nx):
    result = from_key(nx, "svc-key-1")
    assert result.returncode == 0, describe(result)
    report = json.loads(nx.run("token", "status", "--json").stdout)
    assert report["expiry_source"] == "server" and report["expires_estimated"] is False


def test_a_jwt_with_a_hostile_exp_is_estimated(nx):
    from tests.support.fake_nexla import make_jwt

    for exp in (10**40, -5, "soon", 1e308):
        token = make_jwt({"exp": exp})
        nx.ok("env", "configure", nx.server.host, "--with-token", "--no-verify", input=token + "\n")
        session = stored_session(nx)
        assert session["expires_estimated"] is True
        assert 3590 <= session["expires_at"] - time.time() <= 3600


def test_a_jwt_in_the_variable_shows_its_expiry(nx):
    nx.sign_in()
    token = nx.server.issue_token(lifetime=600, jwt=True)
    exp = int(nx.server.token_info(token).expires_at)
    env = nx.env_with(NEXLA_ACCESS_TOKEN=token)
    report = json.loads(nx.run("token", "status", "--json", env=env).stdout)
    assert (report["expires_at"], report["expiry_source"]) == (iso(exp), "token")
    text = nx.run("token", "status", env=env).stdout
    assert "using the token in NEXLA_ACCESS_TOKEN (expires in " in text
    assert f"({iso(exp)}, from the token))" in text
    opaque = nx.env_with(NEXLA_ACCESS_TOKEN="tok-opaque")
    assert "(expiry unknown)" in nx.run("token", "status", env=opaque).stdout


# ---- impersonation ------------------------------------------------------------------------


def test_an_impersonated_sign_in_says_who_is_acting(nx):
    token = nx.server.issue_token(impersonator=ADMIN_USER)
    result = nx.ok("env", "configure", nx.server.host, "--with-token", input=token + "\n")
    assert f"as {ADA} in Example Org (org 7), impersonated by {GRACE};" in result.stderr

    session = stored_session(nx)
    assert session["user"] == {
        **DEFAULT_USER,
        "impersonated": True,
        "impersonator": {k: ADMIN_USER[k] for k in ("id", "email", "full_name")},
    }

    listed = nx.run("env", "list")
    assert f"{ADA} in Example Org (org 7), impersonated by {GRACE}, expires" in listed.stdout
    assert json.loads(nx.run("env", "list", "--json").stdout)[0]["user"] == session["user"]

    shown = nx.run("env", "show")
    assert f"User:            {ADA} (id 42)" in shown.stdout
    assert f"Impersonated by: {GRACE} (id 1)" in shown.stdout
    assert json.loads(nx.run("env", "show", "--json").stdout)["user"] == session["user"]

    status = nx.run("token", "status")
    expected = f"valid session for {ADA} in Example Org (org 7), impersonated by {GRACE}"
    assert expected in status.stdout
    assert json.loads(nx.run("token", "status", "--json").stdout)["user"] == session["user"]


def test_a_refresh_keeps_saying_so(nx):
    nx.sign_in(nx.server.issue_token(impersonator=ADMIN_USER))
    result = nx.ok("token", "refresh", "--json")
    assert json.loads(result.stdout)["user"]["impersonator"]["email"] == ADMIN_USER["email"]
    assert stored_session(nx)["user"]["impersonated"] is True


def test_a_session_that_is_not_impersonated_stores_the_user_alone(nx):
    nx.sign_in()
    assert stored_session(nx)["user"] == DEFAULT_USER
    assert "impersonated" not in nx.run("env", "list").stdout
    assert "Impersonated" not in nx.run("env", "show").stdout


# ---- errors and shapes --------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_an_empty_refusal_at_sign_in_is_one_clear_line(nx, status):
    nx.server.add_fault("GET", "/users/current", Fault.status(status))
    token = nx.server.issue_token()
    result = nx.fails(4, "env", "configure", nx.server.host, "--with-token", input=token + "\n")
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: the token was rejected by {nx.server.host}; nothing was saved"]


def test_an_empty_404_at_sign_in_names_the_url_once(nx):
    nx.server.add_fault("GET", "/users/current", Fault.status(404))
    token = nx.server.issue_token()
    result = nx.fails(5, "env", "configure", nx.server.host, "--with-token", input=token + "\n")
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    url = f"{nx.server.api_url}/users/current"
    assert errors == [
        f"error: could not check the token with {nx.server.host}: unexpected answer from "
        f"{url}: HTTP 404 Not Found; nothing was saved"
    ]


def test_an_empty_401_from_the_token_endpoint_is_one_clear_line(nx):
    result = from_key(nx, "svc-unknown", register=False)
    assert result.returncode == 4, describe(result)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: the service key was rejected by {nx.server.host}; nothing was changed"
    ]


def test_a_user_without_an_org(nx):
    nx.sign_in(nx.server.issue_token(org=None))
    assert stored_session(nx)["org"] is None
    assert json.loads(nx.run("env", "show", "--json").stdout)["org"] is None
    assert re.search(r"^Org: +none$", nx.run("env", "show").stdout, re.MULTILINE)


def test_the_membership_api_key_is_never_stored_or_shown(nx):
    """POST /token and /token/refresh show the org membership's API key: a secret."""
    outputs = []
    minted = from_key(nx, "svc-key-1", "--json", "--save-key")
    assert minted.returncode == 0, describe(minted)
    outputs.append(minted)
    refreshed = nx.ok("--debug", "token", "refresh", "--json")
    outputs.append(refreshed)
    for args in (["env", "show", "--json"], ["env", "list", "--json"], ["token", "status"]):
        outputs.append(nx.run(*args))
    outputs.append(nx.run("--debug", "api", "/users/current"))
    # The server did send it (or this test would prove nothing)...
    sent = [r for r in nx.server.requests if r.api_path in ("/token", "/token/refresh")]
    assert len(sent) == 2
    # ...and it is nowhere: not in any file, not on any stream.
    assert config_contains(nx, MEMBERSHIP_API_KEY_PREFIX) == []
    for result in outputs:
        assert MEMBERSHIP_API_KEY_PREFIX not in result.stdout + result.stderr, result.args
