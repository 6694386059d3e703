"""`nexla token refresh`: POST /token/refresh, the new session stored, and its outcomes."""

from __future__ import annotations

import datetime
import json
import time

from tests.support.fake_nexla import DEFAULT_ORG, DEFAULT_USER, Fault
from tests.support.signing_in import from_key, seed_configured
from tests.support.stores import config_bytes, edit_session, read_store, stored_session

SESSION_JSON_KEYS = {
    "access_token",
    "token_type",
    "expires_at",
    "expires_in",
    "environment",
    "user",
    "org",
}


def parse_iso(text: str) -> float:
    assert text.endswith("Z"), text
    return datetime.datetime.fromisoformat(text[:-1] + "+00:00").timestamp()


def test_refresh_sends_the_stored_bearer_token_and_stores_the_new_session(nx):
    old = nx.sign_in()
    nx.server.default_lifetime = 1800
    before = time.time()
    result = nx.ok("token", "refresh")

    assert nx.server.count("POST", "/token/refresh") == 1
    request = nx.server.last("POST", "/token/refresh")
    assert request.authorization == f"Bearer {old}"
    assert request.header("content-length") == "0"
    assert request.body == b""

    new = nx.server.issued[-1]
    assert new != old
    assert nx.server.is_valid(new) and not nx.server.is_valid(old)
    session = stored_session(nx)
    assert session["access_token"] == new
    assert session["source"] == "refreshed"
    assert session["expires_estimated"] is False
    assert before + 1800 - 2 <= session["expires_at"] <= time.time() + 1800 + 1
    assert session["user"] == DEFAULT_USER
    assert session["org"] == DEFAULT_ORG

    # One confirmation line on stderr naming the new expiry; nothing on stdout.
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    expiry = datetime.datetime.fromtimestamp(session["expires_at"], datetime.timezone.utc)
    assert expiry.strftime("%Y-%m-%dT%H:%M:%SZ") in lines[0]
    assert nx.server.host in lines[0]
    assert new not in result.stderr and old not in result.stderr


def test_refresh_print_writes_the_new_token_alone_to_stdout(nx):
    nx.sign_in()
    result = nx.ok("token", "refresh", "--print")
    assert result.stdout == nx.server.issued[-1] + "\n"
    assert stored_session(nx)["access_token"] == nx.server.issued[-1]


def test_refresh_json_is_the_stored_session(nx):
    nx.sign_in(nx.server.issue_token(org=None))
    nx.server.default_lifetime = 900
    result = nx.ok("token", "refresh", "--json")
    body = json.loads(result.stdout)
    assert set(body) == SESSION_JSON_KEYS
    session = stored_session(nx)
    assert body["access_token"] == session["access_token"] == nx.server.issued[-1]
    assert body["token_type"] == "Bearer"
    assert body["environment"] == nx.server.host
    assert body["user"] == DEFAULT_USER
    assert body["org"] is None
    assert parse_iso(body["expires_at"]) == session["expires_at"]
    assert 890 <= body["expires_in"] <= 900


def test_refresh_json_and_print_together_is_a_usage_error(nx):
    nx.sign_in()
    before = config_bytes(nx)
    result = nx.fails(2, "token", "refresh", "--json", "--print")
    assert result.stdout == ""
    assert nx.server.count("POST", "/token/refresh") == 0
    assert config_bytes(nx) == before


def test_each_refresh_asks_the_server_even_seconds_apart(nx):
    # An explicit refresh always asks the server, also right after another one (or right
    # after from-key) within the same second.
    from_key(nx)
    printed = []
    for _ in range(3):
        result = nx.ok("token", "refresh", "--print")
        printed.append(result.stdout.strip())
    assert nx.server.count("POST", "/token/refresh") == 3
    assert len(set(printed)) == 3
    assert nx.server.is_valid(printed[-1])
    assert stored_session(nx)["access_token"] == printed[-1]


def test_rejected_refresh_without_a_key_exits_4_and_the_token_is_dead(nx):
    old = nx.sign_in()
    nx.server.invalidate(old)
    result = nx.fails(4, "token", "refresh", "--print")
    assert result.stdout == ""
    assert "error:" in result.stderr
    assert "nexla env login" in result.stderr
    assert old not in result.stderr
    assert nx.server.count("POST", "/token/refresh") == 1

    # Remembered as dead: `token print` never hands it out and does not ask again.
    again = nx.fails(4, "token", "print")
    assert again.stdout == ""
    assert "nexla env login" in again.stderr
    assert nx.server.count("POST", "/token/refresh") == 1


def test_rejected_refresh_remints_from_the_saved_key(nx):
    assert from_key(nx, "svc-key-9", "--save-key").returncode == 0
    old = stored_session(nx)["access_token"]
    nx.server.invalidate(old)
    result = nx.ok("token", "refresh", "--print")
    new = result.stdout.strip()
    assert new == nx.server.issued[-1] and nx.server.is_valid(new)
    assert nx.server.count("POST", "/token/refresh") == 1
    assert nx.server.count("POST", "/token") == 2
    assert nx.server.last("POST", "/token").authorization == "Basic svc-key-9"
    session = stored_session(nx)
    assert session["access_token"] == new
    assert session["source"] == "service_key"
    assert "refresh_failure" not in session


def test_refresh_that_fails_on_the_server_exits_5_and_keeps_the_token(nx):
    old = nx.sign_in()
    nx.server.add_fault("POST", "/token/refresh", Fault.status(500, {"message": "db down"}))
    result = nx.fails(5, "token", "refresh")
    assert "db down" in result.stderr
    assert "valid until" in result.stderr
    session = stored_session(nx)
    assert session["access_token"] == old
    assert session["refresh_failure"]["kind"] == "unreachable"
    # The old token still works for everything else.
    printed = nx.ok("token", "print")
    assert printed.stdout == old + "\n"


def test_refresh_answer_without_a_token_exits_5_and_changes_nothing_but_the_failure(nx):
    old = nx.sign_in()
    nx.server.add_fault("POST", "/token/refresh", Fault.body(200, '{"token_type": "Bearer"}'))
    result = nx.fails(5, "token", "refresh", "--print")
    assert result.stdout == ""
    assert "access_token" in result.stderr
    assert stored_session(nx)["access_token"] == old


def test_refresh_without_a_session_exits_4_and_without_an_environment_3(nx):
    result = nx.fails(3, "token", "refresh")
    assert "nexla env configure" in result.stderr

    nx.sign_in()
    assert nx.run("env", "logout").returncode == 0
    nx.server.clear_log()
    result = nx.fails(4, "token", "refresh")
    assert "not signed in" in result.stderr
    assert nx.server.count() == 0


def test_refresh_of_a_pasted_token_past_its_estimated_expiry(nx):
    # The estimate is treated like a real expiry, and the server's answer settles it.
    old = nx.sign_in()
    now = int(time.time())
    edit_session(nx, obtained_at=now - 4000, expires_at=now - 400)
    result = nx.ok("token", "refresh", "--json")
    assert json.loads(result.stdout)["access_token"] == nx.server.issued[-1] != old
    assert stored_session(nx)["expires_estimated"] is False


def test_refresh_picks_the_environment_from_env_option_and_variable(nx):
    token_a = nx.sign_in()
    other = f"localhost:{nx.server.port}"
    token_b = nx.server.issue_token()
    seed_configured(nx, other, token_b)
    # `other` is now current; refresh the first one by name.
    nx.ok("token", "refresh", "--env", nx.server.host)
    assert nx.server.last("POST", "/token/refresh").authorization == f"Bearer {token_a}"
    nx.ok("token", "refresh", env=nx.env_with(NEXLA_ENV=nx.server.host))
    assert nx.server.count("POST", "/token/refresh") == 2
    data = read_store(nx.config_dir)
    assert data["current"] == other
    assert data["environments"][other]["session"]["access_token"] == token_b
    assert nx.server.is_valid(stored_session(nx)["access_token"])


def test_refresh_within_30_seconds_of_a_failure_exits_5_without_asking(nx):
    old = nx.sign_in()
    nx.server.add_fault("POST", "/token/refresh", Fault.status(500))
    assert nx.run("token", "refresh").returncode == 5
    result = nx.fails(5, "token", "refresh")
    assert "not retried" in result.stderr
    assert nx.server.count("POST", "/token/refresh") == 1
    assert stored_session(nx)["access_token"] == old
