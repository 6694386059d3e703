"""Values from a server are checked as strictly as the user's (docs/network.md, "What a
server sends"): a token that cannot travel in a header, or is too long, is exit 5 and never
stored; an `expires_in` that is no number of seconds is an unknown lifetime; `--debug`
redacts every credential in an answer, not only the one sent."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.fake_nexla import Fault
from tests.support.signing_in import from_key, seed
from tests.support.stores import read_store, stored_session, without_memo

HOUR = 3600
YEAR = 365 * 86400


def stored(nx) -> dict:
    return stored_session(nx)


def answer(token: str, **fields) -> dict:
    return {"access_token": token, "token_type": "Bearer", "expires_in": 3600, **fields}


@pytest.mark.parametrize(
    "bad",
    [
        "tok-one\ntok-two",
        "tok with space",
        "tok-\x1b[2J",
        "tok-\u00e9t\u00e9",
        "t" * (16 * 1024 + 1),
        "t" * (1024 * 1024 - 100),
    ],
    ids=["newline", "space", "escape", "non-ascii", "over-16-KiB", "a-megabyte"],
)
def test_a_refresh_answering_an_unfit_token_is_exit_5_and_stores_nothing(nx, bad):
    old = seed(nx, lifetime=3600, age=3540)
    before = read_store(nx.config_dir)
    nx.server.add_fault("POST", "/token/refresh", Fault.body(200, json.dumps(answer(bad))))
    result = nx.fails(5, "token", "refresh")
    assert "it was not stored" in result.stderr
    assert bad not in result.stderr
    assert without_memo(read_store(nx.config_dir)) == before
    # The current token goes on being printed, alone on its line.
    printed = nx.run("token", "print")
    assert printed.stdout == old + "\n"


def test_a_mint_answering_an_unfit_token_is_exit_5(nx):
    nx.server.add_service_key("svc-values")
    nx.server.add_fault("POST", "/token", Fault.body(200, json.dumps(answer("tok two"))))
    result = from_key(nx, "svc-values", register=False)
    assert result.returncode == 5, result.stderr
    assert (
        not (nx.config_dir / "credentials.json").exists()
        or "tok two" not in (nx.config_dir / "credentials.json").read_text()
    )


@pytest.mark.parametrize(
    "raw_expires_in, lifetime, estimated",
    [
        ("1e308", HOUR, True),
        (str(2**63), HOUR, True),
        ("Infinity", HOUR, True),
        ("NaN", HOUR, True),
        ('"3600"', HOUR, True),
        ("true", HOUR, True),
        ("0", HOUR, True),
        ("-5", HOUR, True),
        ("null", HOUR, True),
        (str(400 * 86400), YEAR, False),  # beyond a year: capped
        ("1800.9", 1800, False),
    ],
)
def test_expires_in_is_taken_capped_or_estimated(nx, raw_expires_in, lifetime, estimated):
    seed(nx, lifetime=3600, age=3540)
    new = nx.server.issue_token()
    body = json.dumps(answer(new)).replace('"expires_in": 3600', f'"expires_in": {raw_expires_in}')
    nx.server.add_fault("POST", "/token/refresh", Fault.body(200, body))
    before = time.time()
    result = nx.ok("token", "refresh", "--json")
    session = stored(nx)
    assert session["access_token"] == new
    assert session["expires_estimated"] is estimated
    assert session["expires_at"] - session["obtained_at"] == lifetime
    assert before - 2 <= session["obtained_at"] <= time.time() + 2
    assert json.loads(result.stdout)["access_token"] == new


def test_a_key_answer_without_expires_in_is_an_estimated_hour(nx):
    nx.server.add_service_key("svc-est")
    new = nx.server.issue_token()
    body = {"access_token": new, "token_type": "Bearer"}
    nx.server.add_fault("POST", "/token", Fault.body(200, json.dumps(body)))
    result = from_key(nx, "svc-est", register=False)
    assert result.returncode == 0, result.stderr
    session = stored(nx)
    assert session["access_token"] == new and session["expires_estimated"] is True


# ---- --debug ----------------------------------------------------------------------------------


def test_debug_redacts_credentials_the_server_sends_back(nx):
    """A new token in a response header, in a JWT-looking header value, and in the body:
    none of them reaches the debug log; neither does the token that was sent."""
    old = seed(nx, lifetime=3600, age=3540)
    new = nx.server.issue_token()
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlLXNlY3JldA"
    body = answer(new, org_membership={"api_key": "org-api-key-secret"})
    headers = {"X-Access-Token": new, "X-Trace": f"trace {jwt}", "X-Request-Id": "req-77"}
    nx.server.add_fault("POST", "/token/refresh", Fault.status(200, body, headers=headers))
    result = nx.ok("--debug", "token", "refresh")
    assert "req-77" in result.stderr  # the log is there
    for secret in (old, new, jwt, "org-api-key-secret"):
        assert secret not in result.stderr, secret
    assert "X-Access-Token: [redacted]" in result.stderr


def test_debug_redacts_a_token_quoted_in_an_error_message(nx):
    old = seed(nx, lifetime=3600, age=3540)
    fresh = nx.server.issue_token()
    body = {"message": f"rotated: use {fresh}", "access_token": fresh}
    nx.server.add_fault("POST", "/token/refresh", Fault.status(500, body))
    result = nx.fails(5, "--debug", "token", "refresh")
    assert fresh not in result.stderr and old not in result.stderr
