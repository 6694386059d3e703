"""`nexla api` and tokens: refresh when due, renew once after a 401, the variables."""

from __future__ import annotations

import json

from tests.support.fake_nexla import TEAMS, Fault
from tests.support.signing_in import seed_configured


def bearer(token: str) -> str:
    return f"Bearer {token}"


def test_a_due_token_is_refreshed_before_the_call(api):
    # A pasted token is assumed to live an hour: with a larger margin it is due now.
    api.ok("api", "/teams", env=api.env_with(NEXLA_REFRESH_MARGIN="4000"))
    assert api.server.count("POST", "/token/refresh") == 1
    assert api.server.count("GET", "/teams") == 1
    assert api.server.last("GET", "/teams").authorization == bearer(api.server.issued[-1])


def test_a_401_is_answered_by_one_refresh_and_one_retry(api):
    api.server.add_fault("GET", "/teams", Fault.status(401))
    result = api.ok("api", "/teams")
    assert json.loads(result.stdout) == TEAMS
    new_token = api.server.issued[-1]
    assert new_token != api.token
    calls = api.server.find("GET", "/teams")
    assert [c.authorization for c in calls] == [bearer(api.token), bearer(new_token)]
    assert api.server.count("POST", "/token/refresh") == 1
    # The renewed session was stored: token print returns it without asking the server.
    api.server.clear_log()
    printed = api.run("token", "print")
    assert printed.stdout == new_token + "\n"
    assert api.server.count() == 0


def test_a_second_401_after_the_retry_is_exit_4(api):
    api.server.add_fault("GET", "/teams", Fault.status(401), times=2)
    result = api.fails(4, "api", "/teams")
    assert "even after renewing it" in result.stderr
    assert "nexla env login" in result.stderr
    assert api.server.count("GET", "/teams") == 2
    assert api.server.count("POST", "/token/refresh") == 1


def test_a_token_revoked_behind_the_clis_back_without_a_key_is_exit_4(api):
    api.server.invalidate(api.token)
    result = api.fails(4, "api", "/teams")
    assert "nexla env login" in result.stderr
    assert api.token not in result.stderr + result.stdout
    assert api.server.count("GET", "/teams") == 1  # not retried: there is no new token
    assert api.server.count("POST", "/token/refresh") == 1
    # The dead session is remembered: the next call fails at once, asking nothing.
    api.server.clear_log()
    api.fails(4, "api", "/teams")
    assert api.server.count() == 0


def test_a_token_revoked_behind_the_clis_back_is_reminted_from_a_saved_key(nx):
    nx.server.add_service_key("svc-key-1")
    nx.ok("token", "from-key", "--env", nx.server.host, "--save-key", input="svc-key-1\n")
    first = nx.server.issued[-1]
    nx.server.invalidate(first)
    nx.server.clear_log()
    result = nx.ok("api", "/teams/1")
    assert json.loads(result.stdout) == TEAMS[0]
    reminted = nx.server.issued[-1]
    assert reminted != first
    calls = nx.server.find("GET", "/teams/1")
    assert [c.authorization for c in calls] == [bearer(first), bearer(reminted)]
    assert nx.server.count("POST", "/token/refresh") == 1  # refused: the token is dead
    assert nx.server.count("POST", "/token") == 1
    assert nx.server.last("POST", "/token").authorization == "Basic svc-key-1"


def test_a_401_on_a_later_page_renews_and_the_listing_goes_on(api):
    api.server.add_fault("GET", "/data_sources", Fault.delay(0))  # page 1 answered normally
    api.server.add_fault("GET", "/data_sources", Fault.status(401))  # page 2 refused once
    result = api.ok("api", "/data_sources", "--paginate")
    assert [item["id"] for item in json.loads(result.stdout)] == list(range(1, 251))
    assert api.server.count("POST", "/token/refresh") == 1
    pages = [r.query["page"] for r in api.server.find("GET", "/data_sources")]
    assert pages == ["1", "2", "2", "3"]


def test_access_token_variable_without_an_environment_needs_the_api_url(nx):
    token = nx.server.issue_token()
    result = nx.fails(3, "api", "/teams", env=nx.env_with(NEXLA_ACCESS_TOKEN=token))
    assert "NEXLA_API_URL" in result.stderr
    assert token not in result.stderr
    assert nx.server.count() == 0


def test_access_token_variable_with_the_api_url(nx):
    token = nx.server.issue_token()
    env = nx.env_with(NEXLA_ACCESS_TOKEN=token, NEXLA_API_URL=nx.server.api_url)
    result = nx.ok("api", "/teams", env=env)
    assert json.loads(result.stdout) == TEAMS
    assert nx.server.last("GET", "/teams").authorization == bearer(token)
    assert not (nx.config_dir / "credentials.json").exists()


def test_access_token_variable_wins_over_the_stored_session_and_is_never_renewed(api):
    other = api.server.issue_token()
    env = api.env_with(NEXLA_ACCESS_TOKEN=other)
    assert api.run("api", "/teams", env=env).returncode == 0
    assert api.server.last("GET", "/teams").authorization == bearer(other)

    api.server.invalidate(other)
    result = api.fails(4, "api", "/teams", env=env)
    assert "NEXLA_ACCESS_TOKEN was refused" in result.stderr
    assert other not in result.stderr
    assert api.server.count("POST", "/token/refresh") == 0


def test_api_url_variable_overrides_the_stored_base(nx):
    wrong = f"https://{nx.server.host}/wrong-prefix"
    token = nx.sign_in(None, "--api-url", wrong, "--no-verify")
    stored = nx.run("api", "/teams")
    assert stored.returncode == 6  # the fake knows nothing under /wrong-prefix
    assert nx.server.last().path == "/wrong-prefix/teams"

    env = nx.env_with(NEXLA_API_URL=nx.server.api_url)
    nx.ok("api", "/teams", env=env)
    assert nx.server.last().path == "/nexla-api/teams"
    assert nx.server.last().authorization == bearer(token)
    # Absolute URLs are checked against the base in effect, the variable's.
    nx.fails(2, "api", wrong + "/teams", env=env)


def test_env_option_picks_the_environment(api):
    seed_configured(api, "other.example.invalid", "x-tok", "--no-verify")
    api.ok("api", "--env", api.server.host, "/teams/1")
    assert api.server.last("GET", "/teams/1").authorization == bearer(api.token)
    api.ok("api", "/teams/1", env=api.env_with(NEXLA_ENV=api.server.host))


def test_not_signed_in_is_exit_4(api):
    assert api.run("env", "logout").returncode == 0
    api.server.clear_log()
    result = api.fails(4, "api", "/teams")
    assert "not signed in" in result.stderr
    assert api.server.count() == 0


def test_debug_redacts_the_token(api):
    result = api.ok("--debug", "api", "/teams/1")
    assert "Authorization: Bearer [redacted]" in result.stderr
    assert api.token not in result.stderr


def test_a_401_whose_renewal_fails_on_the_server_is_exit_5(api):
    api.server.add_fault("GET", "/teams", Fault.status(401))
    api.server.add_fault("POST", "/token/refresh", Fault.status(500, {"message": "down"}))
    result = api.fails(5, "api", "/teams")
    assert "could not be renewed" in result.stderr and "down" in result.stderr
    assert api.server.count("GET", "/teams") == 1
    assert api.server.count("POST", "/token/refresh") == 1
    assert api.token not in result.stderr
