"""NEXLA_API_URL changes one run only (docs/sessions.md, "NEXLA_API_URL and stored
credentials").

A stored token or saved key goes to it only when it names the environment's own API host;
otherwise exit 2 naming both hosts, nothing sent. Nothing learned through it is stored: no
session renewed through it, no remembered failure, no "rejected" mark. With
NEXLA_ACCESS_TOKEN any NEXLA_API_URL may be used.
"""

from __future__ import annotations

import pytest

from tests.support.fake_nexla import FakeNexla
from tests.support.outcomes import assert_error, warnings_in
from tests.support.signing_in import seed
from tests.support.stores import set_times, store_bytes


@pytest.fixture
def other(fresh_server) -> FakeNexla:
    """Another API host the CLI trusts, on the same machine."""
    return fresh_server()


def _foreign(nx, other) -> dict:
    return nx.env_with(NEXLA_API_URL=other.api_url)


@pytest.mark.parametrize(
    "args, due",
    [
        (("token", "refresh"), False),
        (("token", "print"), True),
        (("api", "/teams"), False),
        (("env", "show", "--check"), False),
        (("env", "logout"), False),
    ],
    ids=["refresh", "due-print", "api", "show-check", "logout"],
)
def test_stored_credentials_never_travel_to_another_host(nx, other, args, due):
    old = seed(nx, lifetime=3600, age=3500 if due else 0)
    before = store_bytes(nx.config_dir)
    result = nx.run(*args, env=_foreign(nx, other))
    assert_error(result, 2, "NEXLA_API_URL")
    assert other.host in result.stderr and nx.server.host in result.stderr
    assert other.requests == []
    assert nx.server.count() == 0
    assert store_bytes(nx.config_dir) == before
    # The next run, without the variable, finds the session as it was.
    nx.ok("token", "refresh", "--print")
    assert nx.server.last("POST", "/token/refresh").authorization == f"Bearer {old}"


def test_an_expired_session_with_a_saved_key_sends_neither_elsewhere(nx, other):
    nx.server.add_service_key("svc-home")
    other.add_service_key("svc-home")
    seed(nx, lifetime=3600, age=4000, service_key="svc-home")
    before = store_bytes(nx.config_dir)
    result = nx.run("api", "/teams", env=_foreign(nx, other))
    assert_error(result, 2, "NEXLA_API_URL")
    assert other.requests == [] and nx.server.count() == 0
    assert store_bytes(nx.config_dir) == before


def test_from_key_through_another_api_stores_nothing_and_sends_nothing(nx, other):
    seed(nx)
    other.add_service_key("svc-other")
    before = store_bytes(nx.config_dir)
    env = _foreign(nx, other)
    env["NEXLA_SERVICE_KEY"] = "svc-other"
    result = nx.run("token", "from-key", env=env)
    assert_error(result, 2, "NEXLA_API_URL")
    assert other.requests == []
    assert store_bytes(nx.config_dir) == before


def test_the_same_host_on_another_path_is_used_but_nothing_learned_is_stored(nx):
    # The stored URL is wrong; the variable names the same host with the right path.
    token = nx.sign_in(None, "--api-url", f"https://{nx.server.host}/wrong-prefix", "--no-verify")
    env = nx.env_with(NEXLA_API_URL=nx.server.api_url)
    nx.ok("api", "/teams", env=env)
    assert nx.server.last("GET", "/teams").authorization == f"Bearer {token}"

    set_times(nx, lifetime=3600, left=100)
    before = store_bytes(nx.config_dir)
    due = nx.ok("token", "print", env=env)
    assert due.stdout == token + "\n"
    (warning,) = warnings_in(due)
    assert "NEXLA_API_URL" in warning
    refreshed = nx.run("token", "refresh", env=env)
    assert_error(refreshed, 2, "NEXLA_API_URL")
    assert nx.server.count("POST", "/token/refresh") == 0
    assert store_bytes(nx.config_dir) == before


def test_a_401_through_the_variable_leaves_no_rejected_mark(nx):
    token = nx.sign_in(None, "--api-url", f"https://{nx.server.host}/wrong-prefix", "--no-verify")
    nx.server.invalidate(token)
    before = store_bytes(nx.config_dir)
    nx.fails(2, "api", "/teams", env=nx.env_with(NEXLA_API_URL=nx.server.api_url))
    assert nx.server.count("POST", "/token/refresh") == 0
    assert store_bytes(nx.config_dir) == before


def test_with_an_access_token_any_api_url_may_be_used(nx, other):
    seed(nx)
    theirs = other.issue_token()
    env = nx.env_with(NEXLA_API_URL=other.api_url, NEXLA_ACCESS_TOKEN=theirs)
    nx.ok("api", "/teams", env=env)
    assert other.last("GET", "/teams").authorization == f"Bearer {theirs}"
    assert nx.server.count() == 0


def test_a_pasted_token_is_checked_only_where_it_will_be_used(nx, other):
    """A token pasted for NAME is stored for NAME's own API, so it is never checked against
    another one: with NEXLA_API_URL elsewhere, exit 2, nothing sent to either host."""
    seed(nx, lifetime=3600)
    before = store_bytes(nx.config_dir)
    pasted = other.issue_token()
    result = nx.run(
        "env", "login", "--with-token", input=pasted + "\n", env=_foreign(nx, other)
    )
    assert_error(result, 2, "NEXLA_API_URL")
    assert other.requests == [] and nx.server.count() == 0
    assert store_bytes(nx.config_dir) == before
