"""`nexla token status`: validity, expiry, time left, source, user and org; never the token."""

from __future__ import annotations

import json
import time

from tests.support.fake_nexla import DEFAULT_ORG, DEFAULT_USER
from tests.support.outcomes import describe
from tests.support.signing_in import from_key
from tests.support.stores import edit_session, set_times, stored_session

STATUS_KEYS = {
    "environment",
    "valid",
    "source",
    "expires_at",
    "expires_in",
    "expires_estimated",
    "expiry_source",
    "refresh_due",
    "user",
    "org",
    "service_key_location",  # docs/keyring.md
}


def status_json(nx, *args, **variables):
    result = nx.run("token", "status", "--json", *args, env=nx.env_with(**variables))
    body = json.loads(result.stdout)
    assert set(body) == STATUS_KEYS
    return result, body


def test_valid_session_in_text(nx):
    nx.server.default_lifetime = 1800
    assert from_key(nx).returncode == 0
    token = stored_session(nx)["access_token"]
    nx.server.clear_log()
    result = nx.ok("token", "status")
    assert nx.server.host in result.stdout
    assert "valid session" in result.stdout and "no valid session" not in result.stdout
    assert DEFAULT_USER["email"] in result.stdout
    assert DEFAULT_ORG["name"] in result.stdout
    assert "source: service key" in result.stdout
    assert time.strftime("%Y-%m-%dT", time.gmtime()) in result.stdout
    assert token not in result.stdout + result.stderr
    assert nx.server.count() == 0


def test_valid_session_in_json(nx):
    nx.server.default_lifetime = 1800
    assert from_key(nx).returncode == 0
    token = stored_session(nx)["access_token"]
    result, body = status_json(nx)
    assert result.returncode == 0, describe(result)
    assert body["environment"] == nx.server.host
    assert body["valid"] is True
    assert body["source"] == "service_key"
    assert 1790 <= body["expires_in"] <= 1800
    assert body["expires_at"].endswith("Z")
    assert body["expires_estimated"] is False
    assert body["refresh_due"] is False
    assert body["user"] == DEFAULT_USER and body["org"] == DEFAULT_ORG
    assert token not in result.stdout + result.stderr


def test_pasted_session_reports_an_estimate_and_a_due_refresh(nx):
    token = nx.sign_in()
    set_times(nx, lifetime=3600, left=100)
    result, body = status_json(nx)
    assert result.returncode == 0, describe(result)
    assert body["source"] == "pasted"
    assert body["expires_estimated"] is True
    assert body["refresh_due"] is True
    assert token not in result.stdout + result.stderr
    text = nx.run("token", "status")
    assert "estimated" in text.stdout and "refresh due" in text.stdout


def test_expired_session_exits_4(nx):
    nx.sign_in()
    set_times(nx, lifetime=3600, left=-60)
    result, body = status_json(nx)
    assert result.returncode == 4, describe(result)
    assert body["valid"] is False and body["expires_in"] == 0
    text = nx.fails(4, "token", "status")
    assert "no valid session" in text.stdout


def test_session_the_server_refused_exits_4(nx):
    nx.sign_in()
    edit_session(nx, refresh_failure={"at": int(time.time()), "kind": "rejected"})
    result, body = status_json(nx)
    assert result.returncode == 4, describe(result)
    assert body["valid"] is False


def test_not_signed_in_exits_4(nx):
    nx.sign_in()
    assert nx.run("env", "logout").returncode == 0
    result, body = status_json(nx)
    assert result.returncode == 4, describe(result)
    assert body["valid"] is False and body["source"] is None and body["user"] is None


def test_access_token_variable_is_reported_as_the_source(nx):
    result, body = status_json(nx, NEXLA_ACCESS_TOKEN="tok-variable-secret")
    assert result.returncode == 0, describe(result)
    assert body["valid"] is True
    assert body["source"] == "NEXLA_ACCESS_TOKEN"
    assert "tok-variable-secret" not in result.stdout + result.stderr
    assert not nx.config_dir.exists()
    text = nx.ok("token", "status", env=nx.env_with(NEXLA_ACCESS_TOKEN="tok-variable-secret"))
    assert "NEXLA_ACCESS_TOKEN" in text.stdout
    assert "tok-variable-secret" not in text.stdout + text.stderr


def test_nothing_configured_exits_3(nx):
    result = nx.fails(3, "token", "status")
    assert "nexla env configure" in result.stderr


def test_access_token_variable_with_a_named_environment(nx):
    result, body = status_json(
        nx, "--env", "https://DataOps.Nexla.io/", NEXLA_ACCESS_TOKEN="tok-variable-secret"
    )
    assert result.returncode == 0, describe(result)
    assert body["environment"] == "dataops.nexla.io"
    assert body["expires_at"] is None and body["user"] is None
