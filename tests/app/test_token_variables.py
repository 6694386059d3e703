"""$NEXLA_ACCESS_TOKEN: store-managing commands warn that it is set; token users take it."""

from __future__ import annotations

import json

import pytest

from tests.support.outcomes import describe
from tests.support.signing_in import from_key
from tests.support.stores import stored_session

VARIABLE_TOKEN = "tok-from-the-variable"


def warned(result) -> bool:
    return "warning:" in result.stderr and "NEXLA_ACCESS_TOKEN" in result.stderr


@pytest.fixture
def signed_in(nx):
    nx.sign_in()
    return nx


def test_env_login_warns_and_still_stores_the_pasted_token(signed_in):
    nx = signed_in
    token = nx.server.issue_token()
    result = nx.ok(
        "env",
        "login",
        "--with-token",
        input=token + "\n",
        env=nx.env_with(NEXLA_ACCESS_TOKEN=VARIABLE_TOKEN),
    )
    assert warned(result)
    assert stored_session(nx)["access_token"] == token


def test_token_refresh_warns_and_refreshes_the_stored_session(signed_in):
    nx = signed_in
    result = nx.ok(
        "token", "refresh", "--print", env=nx.env_with(NEXLA_ACCESS_TOKEN=VARIABLE_TOKEN)
    )
    assert warned(result)
    assert result.stdout == nx.server.issued[-1] + "\n"
    assert nx.server.last("POST", "/token/refresh").authorization != f"Bearer {VARIABLE_TOKEN}"
    assert stored_session(nx)["access_token"] == nx.server.issued[-1]


def test_token_from_key_warns_and_stores_the_minted_session(nx):
    result = from_key(nx, "svc-variable", env=nx.env_with(NEXLA_ACCESS_TOKEN=VARIABLE_TOKEN))
    assert result.returncode == 0, describe(result)
    assert warned(result)
    assert stored_session(nx)["access_token"] == nx.server.issued[-1]


def test_env_logout_warns_and_forgets_the_stored_session(signed_in):
    nx = signed_in
    stored = stored_session(nx)["access_token"]
    result = nx.ok("env", "logout", env=nx.env_with(NEXLA_ACCESS_TOKEN=VARIABLE_TOKEN))
    assert warned(result)
    assert nx.server.last("POST", "/token/logout").authorization == f"Bearer {stored}"
    assert not nx.server.is_valid(stored)


def test_token_print_and_status_take_the_variable_over_the_store(signed_in):
    nx = signed_in
    env = nx.env_with(NEXLA_ACCESS_TOKEN=VARIABLE_TOKEN)
    printed = nx.ok("token", "print", env=env)
    assert printed.stdout == VARIABLE_TOKEN + "\n", describe(printed)
    assert not warned(printed)
    status = nx.ok("token", "status", "--json", env=env)
    assert json.loads(status.stdout)["source"] == "NEXLA_ACCESS_TOKEN"
