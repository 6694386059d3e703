"""What people read: messages that say what happened and what to do next, and one style
for times and durations (docs/signing-in.md, "What the messages mean")."""

import json
import re
import socket

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from tests.support.fake_nexla import Fault
from tests.support.outcomes import assert_clean_error
from tests.support.signing_in import configure, second_name, seed_configured
from tests.support.stores import set_times

# Every way a time or a duration is shown to people, and the forms that must never appear.
ISO_UTC = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
OLD_STYLES = [r"\bUTC\b", r"\bin 0s\b", r"\bin \d{3,}s\b", r"\d\dh\d\dm", r"\d \d\d:\d\d:\d\d"]


def assert_people_times(text: str) -> None:
    for pattern in OLD_STYLES:
        assert not re.search(pattern, text), (pattern, text)


# --- expiry as shown by the commands -------------------------------------------------------


def test_an_expired_session_reads_the_same_in_status_show_and_list(nx):
    nx.sign_in()
    set_times(nx, lifetime=3600, left=-3 * 86400 - 100)
    status = nx.run("token", "status")
    show = nx.run("env", "show")
    listing = nx.run("env", "list")
    for result in (status, show, listing):
        assert "expired 3d ago (" in result.stdout, result.stdout
        assert_people_times(result.stdout + result.stderr)
    assert status.returncode == 4


def test_a_live_session_shows_time_left_and_an_iso_instant(nx):
    nx.sign_in()
    set_times(nx, lifetime=7200, left=3720 + 30)
    for args in (("token", "status"), ("env", "show"), ("env", "list")):
        result = nx.run(*args)
        assert re.search(rf"expires in 1h 2m \({ISO_UTC}, estimated\)", result.stdout), (
            result.stdout
        )
        assert_people_times(result.stdout)


def test_json_keeps_its_fields_as_numbers_and_instants(nx):
    nx.sign_in()
    set_times(nx, lifetime=3600, left=-100)
    body = json.loads(nx.run("token", "status", "--json").stdout)
    assert body["expires_in"] == 0 and isinstance(body["expires_in"], int)
    assert re.fullmatch(ISO_UTC, body["expires_at"])


def test_a_warning_from_the_renewal_logic_uses_the_same_instants(nx):
    nx.sign_in()
    set_times(nx, lifetime=3600, left=60)  # due: inside the refresh margin
    nx.server.add_fault("POST", "/token/refresh", Fault.status(500, {"message": "db down"}))
    result = nx.fails(5, "token", "refresh")
    assert re.search(rf"valid until {ISO_UTC}", result.stderr), result.stderr
    assert_people_times(result.stderr)


# --- messages with a next step -------------------------------------------------------------


def test_token_status_when_signed_out_says_how_to_sign_in(nx):
    nx.sign_in()
    assert nx.run("env", "logout").returncode == 0
    result = nx.fails(4, "token", "status")
    assert f"{nx.server.host}: not signed in" in result.stdout
    assert f"hint: sign in with `nexla env login --env {nx.server.host}`" in result.stderr


def test_show_check_when_signed_out_sends_nothing_and_says_so(nx):
    nx.sign_in()
    assert nx.run("env", "logout").returncode == 0
    nx.server.clear_log()
    result = nx.run("env", "show", "--check")
    assert_clean_error(result, 4, "not signed in", "nothing was checked", "nexla env login")
    assert "Server check: not signed in, nothing checked" in result.stdout
    assert "NOT accepted" not in result.stdout
    assert nx.server.count() == 0


def test_removing_another_environment_does_not_mention_the_current_one(nx):
    other = second_name(nx)
    seed_configured(nx, other, nx.server.issue_token())
    seed_configured(nx, nx.server.host, nx.server.issue_token())  # current
    result = nx.ok("env", "remove", other)
    assert result.stderr.splitlines()[-1] == f"Removed {other}."
    assert "urrent" not in result.stderr


def test_removing_the_current_environment_says_which_is_current_now(nx):
    other = second_name(nx)
    seed_configured(nx, other, nx.server.issue_token())
    seed_configured(nx, nx.server.host, nx.server.issue_token())  # current
    result = nx.ok("env", "remove", nx.server.host)
    assert f"Current environment is now {other}." in result.stderr.splitlines()
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    seed_configured(nx, f"127.0.0.2:{nx.server.port}", "unverified", "--no-verify")
    result = nx.run("env", "remove", f"127.0.0.2:{nx.server.port}")
    assert "No environment is current now; choose one with `nexla env use NAME`." in (
        result.stderr.splitlines()
    )


def test_no_verify_says_the_token_was_not_checked(nx):
    result = configure(nx, nx.server.host, "tok-never-checked", "--no-verify")
    assert f"Saved the token for {nx.server.host} without checking it (--no-verify)" in (
        " ".join(result.stderr.split())
    )
    assert "unverified token" not in result.stderr
    assert nx.server.count() == 0


def test_a_missing_ca_bundle_is_one_line_naming_it(nx):
    result = nx.run(
        "env",
        "configure",
        nx.server.host,
        "--with-token",
        input=nx.server.issue_token() + "\n",
        env=nx.env_with(REQUESTS_CA_BUNDLE="/nonexistent.pem"),
    )
    assert_clean_error(result, 2, "/nonexistent.pem", "REQUESTS_CA_BUNDLE")
    assert "bug" not in result.stderr
    assert nx.server.count() == 0


def test_a_server_that_cannot_be_reached_gets_a_next_step(nx):
    # Bound, never listening: connections are refused, and while the socket is held no
    # other process (another test worker) can take the port.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        result = nx.run(
            "env", "configure", f"127.0.0.1:{port}", "--with-token", input="tok-unchecked\n"
        )
    assert_clean_error(result, 5, f"cannot connect to 127.0.0.1:{port}")
    assert result.stderr.splitlines()[-1].startswith("hint: try again when the server is reachable")


def test_a_usage_error_without_advice_of_its_own_points_at_the_command_help(nx):
    nx.sign_in()
    result = nx.run("token", "refresh", "--json", "--print")
    assert_clean_error(result, 2, "--json and --print")
    assert result.stderr.splitlines()[-1] == "hint: see `nexla token refresh --help`"
