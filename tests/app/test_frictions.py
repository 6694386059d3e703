"""What a newcomer meets on a first try, in words that fit (README.md, docs/signing-in.md,
docs/network.md): each test states one friction that is gone."""

from __future__ import annotations

import json

from tests.support.fake_nexla import Fault
from tests.support.ports import closed_port
from tests.support.signing_in import second_name, seed_configured
from tests.support.stores import read_store, set_times, write_store_data


def test_configure_with_a_host_does_not_list_the_environments(nx):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    result = nx.ok(
        "env", "configure", second_name(nx), "--with-token", input=nx.server.issue_token() + "\n"
    )
    assert "Available Environments:" not in result.stderr
    assert f"- {nx.server.host}" not in result.stderr
    assert f"Signed in to {second_name(nx)}" in result.stderr


def _hint(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("hint: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_status_of_a_refused_unchecked_session_says_refused_not_a_countdown(nx):
    # Stored without a check (--no-verify), then refused by the server at its first use.
    nx.ok("env", "configure", nx.server.host, "--with-token", "--no-verify", input="tok-gone\n")
    nx.fails(4, "token", "refresh")
    result = nx.fails(4, "token", "status")
    assert "refused by the server" in result.stdout
    assert "expires in" not in result.stdout
    assert "an unknown user" not in result.stdout
    assert "user unknown" in result.stdout
    assert f"nexla env login --env {nx.server.host}" in _hint(result)


def test_status_of_a_refused_session_names_its_user_and_no_countdown(nx):
    token = nx.sign_in()
    nx.server.invalidate(token)
    nx.fails(4, "token", "refresh")
    result = nx.fails(4, "token", "status")
    assert "Ada Lovelace" in result.stdout
    assert "refused by the server" in result.stdout
    assert "expires in" not in result.stdout


def test_an_estimated_expiry_that_passed_hints_at_a_refresh_that_works(nx):
    nx.sign_in()  # pasted: its hour is an estimate, and the server still takes the token
    set_times(nx, lifetime=3600, left=-400)
    hint = _hint(nx.fails(4, "token", "status"))
    assert "env login" not in hint
    assert f"nexla token refresh --env {nx.server.host}" in hint
    # Following the hint works: the server still took the token.
    nx.ok("token", "refresh")
    nx.ok("token", "status")


def test_an_expiry_the_server_gave_that_passed_hints_at_signing_in(nx):
    nx.sign_in()
    set_times(nx, lifetime=3600, left=-400, source="refreshed", expires_estimated=False)
    hint = _hint(nx.fails(4, "token", "status"))
    assert f"nexla env login --env {nx.server.host}" in hint


def test_show_check_with_the_server_down_shows_the_environment_too(nx):
    nx.sign_in()
    data = read_store(nx.config_dir)
    data["environments"][nx.server.host]["api_url"] = f"https://127.0.0.1:{closed_port()}/x"
    write_store_data(nx.config_dir, data)
    result = nx.fails(5, "env", "show", "--check")
    assert f"Environment: {nx.server.host}" in result.stdout.replace("  ", " ")
    assert "Ada Lovelace" in result.stdout
    assert "Server check:" in result.stdout and "not reached" in result.stdout
    assert "connection refused" in result.stderr
    as_json = json.loads(nx.fails(5, "env", "show", "--check", "--json").stdout)
    assert as_json["name"] == nx.server.host and as_json["accepted"] is None


def test_logout_all_asks_a_failing_server_once_and_says_so_once(nx):
    nx.sign_in()
    seed_configured(nx, second_name(nx), nx.server.issue_token(), "--api-url", nx.server.api_url)
    nx.server.add_fault("POST", "/token/logout", Fault.status(503), times=None)
    one_environment = 1 + 3  # a 503 is retried three times, for a POST too
    result = nx.ok("env", "logout", "--all")
    assert nx.server.count("POST", "/token/logout") == one_environment
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1, result.stderr
    assert nx.server.host in warnings[0] and second_name(nx) in warnings[0]
    assert "stay valid on the server" in warnings[0]
    assert result.stderr.count("Logged out of") == 1
    for name in (nx.server.host, second_name(nx)):
        assert "session" not in read_store(nx.config_dir)["environments"][name]


def test_a_timeout_says_how_many_attempts_of_how_long(api):
    api.server.add_fault("GET", "/flows", Fault.hang(30), times=None)
    result = api.fails(5, "api", "/flows", env=api.env_with(NEXLA_TIMEOUT="0.5"))
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert "timed out" in error
    assert "4 attempts" in error  # the first and 3 retries (docs/network.md)
    assert "each allowed 0.5 s to connect and 0.5 s to answer" in error
    assert api.server.count("GET", "/flows") == 4


def test_a_post_that_times_out_says_it_was_one_attempt(nx):
    nx.sign_in()
    nx.server.add_fault("POST", "/token/refresh", Fault.hang(30), times=None)
    result = nx.fails(5, "token", "refresh", env=nx.env_with(NEXLA_TIMEOUT="0.5"))
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert "1 attempt," in error and "each allowed" not in error
    assert "allowed 0.5 s to connect and 0.5 s to answer" in error
