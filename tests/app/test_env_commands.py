"""`nexla env …` end to end: the installed `nexla` in a subprocess against the fake API.

Tokens come from stdin here (`--with-token`, or a stdin that is not a terminal); the prompts
at a real terminal are in test_env_interactive.py, files and modes in test_env_storage.py.
"""

import json

import pytest

from tests.support.fake_nexla import DEFAULT_ORG, DEFAULT_USER, Fault
from tests.support.outcomes import assert_clean_error
from tests.support.signing_in import configure, second_name, seed_configured
from tests.support.stores import env_record, read_store, store_bytes, store_path, stored_session

# --- configure -------------------------------------------------------------------------------


def test_configure_with_token_checks_it_once_and_stores_the_session(nx):
    token = nx.server.issue_token()
    result = nx.ok("env", "configure", nx.server.host, "--with-token", input=token + "\n")

    # Exactly one request: GET /users/current with the pasted token.
    assert nx.server.count() == 1
    check = nx.server.last("GET", "/users/current")
    assert check.authorization == f"Bearer {token}"
    assert check.header("accept") == "application/vnd.nexla.api.v1+json"

    data = read_store(nx.config_dir)
    assert data["current"] == nx.server.host
    env = data["environments"][nx.server.host]
    assert env["api_url"] == f"https://{nx.server.host}/nexla-api"
    session = env["session"]
    assert session["access_token"] == token
    assert session["source"] == "pasted"
    assert session["expires_estimated"] is True
    assert session["expires_at"] - session["obtained_at"] == 3600
    assert session["user"] == DEFAULT_USER
    assert session["org"] == DEFAULT_ORG
    assert "saved_key" not in env

    # Results only on stdout: configure has none. It says who is signed in where.
    assert result.stdout == ""
    assert "Available Environments:" not in result.stderr  # none yet: no empty heading
    assert f"Signed in to {nx.server.host} as Ada Lovelace <ada@example.com>" in result.stderr
    assert "estimated" in result.stderr
    assert token not in result.stderr


def test_piped_token_opens_no_browser_and_prints_no_link(nx):
    # A stdin that is not a terminal is read for the token even without --with-token.
    token = nx.server.issue_token()
    result = nx.ok("env", "configure", nx.server.host, input=f"{token}\n")
    assert stored_session(nx)["access_token"] == token
    assert nx.browser_log() == []
    assert "If your browser didn't open" not in result.stderr
    assert "/token" not in result.stderr
    assert "Enter ACCESS TOKEN" not in result.stderr


def test_token_is_the_first_non_empty_line_stripped(nx):
    token = nx.server.issue_token()
    nx.ok(
        "env", "configure", nx.server.host, "--with-token", input=f"\n  \r\n\t{token}  \r\nrest\n"
    )
    assert stored_session(nx)["access_token"] == token
    assert nx.server.last("GET", "/users/current").authorization == f"Bearer {token}"


def test_configure_normalises_the_host(nx):
    token = nx.server.issue_token()
    configure(nx, f"HTTPS://127.0.0.1:{nx.server.port}/token", token)
    assert list(read_store(nx.config_dir)["environments"]) == [nx.server.host]


def test_configure_with_no_verify_sends_nothing(nx):
    nx.ok(
        "env", "configure", nx.server.host, "--with-token", "--no-verify", input="tok-unchecked\n"
    )
    assert nx.server.count() == 0
    session = env_record(nx.config_dir, nx.server.host)["session"]
    assert session["access_token"] == "tok-unchecked"
    assert session["user"] == {}
    shown = nx.run("env", "show")
    assert "tok-unchecked" not in shown.stdout
    assert "****" in shown.stdout  # too short to show any of it


def test_configure_makes_its_environment_current(nx):
    other = second_name(nx)
    configure(nx, nx.server.host, nx.server.issue_token())
    configure(nx, other, nx.server.issue_token())
    assert read_store(nx.config_dir)["current"] == other
    configure(nx, nx.server.host, nx.server.issue_token())
    assert read_store(nx.config_dir)["current"] == nx.server.host


# --- API URL --------------------------------------------------------------------------------


def test_configure_keeps_the_stored_api_url_unless_given_again(nx):
    port = nx.server.port
    via_localhost = f"https://localhost:{port}/nexla-api"
    configure(nx, nx.server.host, nx.server.issue_token(), "--api-url", via_localhost + "/")
    assert env_record(nx.config_dir, nx.server.host)["api_url"] == via_localhost
    # The check went to the API URL given, not to https://HOST/nexla-api.
    assert nx.server.last("GET", "/users/current").header("host") == f"localhost:{port}"

    configure(nx, nx.server.host, nx.server.issue_token())
    assert env_record(nx.config_dir, nx.server.host)["api_url"] == via_localhost
    assert nx.server.last("GET", "/users/current").header("host") == f"localhost:{port}"

    configure(nx, nx.server.host, nx.server.issue_token(), "--api-url", nx.server.api_url)
    assert env_record(nx.config_dir, nx.server.host)["api_url"] == nx.server.api_url
    assert nx.server.last("GET", "/users/current").header("host") == nx.server.host


@pytest.mark.parametrize(
    "api_url, code, fragment, sent",
    [
        # Plain http is refused before anything is sent.
        ("http://{host}/nexla-api", 2, "https://", 0),
        # /users/current answering 404: the API is not at that URL, a server error.
        ("https://{host}/not-the-api", 5, "API URL", 1),
    ],
    ids=["plain-http", "wrong-path"],
)
def test_a_bad_api_url_saves_nothing(nx, api_url, code, fragment, sent):
    before = store_bytes(nx.config_dir)
    result = nx.run(
        "env",
        "configure",
        nx.server.host,
        "--api-url",
        api_url.format(host=nx.server.host),
        "--with-token",
        input=nx.server.issue_token() + "\n",
    )
    assert_clean_error(result, code, fragment)
    assert nx.server.count() == sent
    assert store_bytes(nx.config_dir) == before


def test_nexla_api_url_elsewhere_is_never_where_a_pasted_token_is_checked(nx):
    """docs/sessions.md: the token is checked where it will be used, so a NEXLA_API_URL
    other than the environment's API URL is exit 2, nothing sent, nothing saved; --api-url
    gives the environment that URL instead."""
    port = nx.server.port
    elsewhere = f"https://localhost:{port}/nexla-api"
    env = nx.env_with(NEXLA_API_URL=elsewhere)
    token = nx.server.issue_token()
    result = nx.fails(2, "env", "configure", nx.server.host, "--with-token", input=token, env=env)
    assert "NEXLA_API_URL" in result.stderr
    assert nx.server.count() == 0
    assert not (nx.config_dir / "credentials.json").exists()
    configure(nx, nx.server.host, token, "--api-url", elsewhere, env=env)
    assert nx.server.last("GET", "/users/current").header("host") == f"localhost:{port}"
    assert env_record(nx.config_dir, nx.server.host)["api_url"] == elsewhere


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "http://{host}",
        "HTTP://{host}/token",
        "bad host.example",
        "{host}/nexla-api",
        "user@{host}",
        "dataops..nexla.io",
        "a" * 64 + ".example",
        "data_ops.nexla.io",
        "",
    ],
)
def test_invalid_host_is_a_usage_error_and_nothing_is_stored_or_sent(nx, host):
    host = host.format(host=nx.server.host)
    result = nx.run("env", "configure", host, "--with-token", input=nx.server.issue_token() + "\n")
    assert_clean_error(result, 2)
    assert nx.server.count() == 0
    assert not store_path(nx.config_dir).exists()
    assert result.stdout == ""


def test_invalid_host_leaves_an_existing_store_untouched(nx):
    configure(nx, nx.server.host, nx.server.issue_token())
    before = store_bytes(nx.config_dir)
    nx.server.clear_log()
    result = nx.run("env", "configure", "http://x.example", "--with-token", input="tok-whatever\n")
    assert_clean_error(result, 2, "http://")
    assert store_bytes(nx.config_dir) == before
    assert nx.server.count() == 0


def test_rejected_token_saves_nothing_and_keeps_the_previous_session(nx):
    configure(nx, nx.server.host, nx.server.issue_token())
    before = store_bytes(nx.config_dir)
    result = nx.run(
        "env", "configure", nx.server.host, "--with-token", input="tok-not-a-real-one\n"
    )
    assert_clean_error(result, 4, "nothing was saved")
    assert "tok-not-a-real-one" not in result.stderr
    assert store_bytes(nx.config_dir) == before
    assert nx.server.count("GET", "/users/current") == 2


def test_rejected_token_at_login_keeps_the_previous_session(nx):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    before = store_bytes(nx.config_dir)
    result = nx.run("env", "login", "--with-token", input="tok-not-a-real-one\n")
    assert_clean_error(result, 4)
    assert store_bytes(nx.config_dir) == before


@pytest.mark.parametrize(
    "fault",
    [
        Fault.status(500, {"message": "internal trouble"}),
        Fault.body(200, "<html>sign in</html>", "text/html"),
        Fault.redirect("http://elsewhere.example/login"),
    ],
    ids=["5xx", "not-json", "redirect"],
)
def test_server_trouble_at_the_check_is_exit_5_and_saves_nothing(nx, fault):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    before = store_bytes(nx.config_dir)
    nx.server.add_fault("GET", "/users/current", fault)
    token = nx.server.issue_token()
    result = nx.run("env", "login", "--with-token", input=token + "\n")
    assert_clean_error(result, 5, "could not check the token", "nothing was saved")
    assert token not in result.stderr
    assert store_bytes(nx.config_dir) == before


@pytest.mark.own_server  # it stops the server
def test_unreachable_server_at_configure_is_exit_5(nx):
    nx.server.stop()
    result = nx.run("env", "configure", nx.server.host, "--with-token", input="tok-x\n")
    assert_clean_error(result, 5, "could not check the token")
    assert not store_path(nx.config_dir).exists()


@pytest.mark.parametrize("stdin", ["", "\n", "  \r\n\n\t\n"])
def test_empty_token_is_a_usage_error(nx, stdin):
    result = nx.run("env", "configure", nx.server.host, "--with-token", input=stdin)
    assert_clean_error(result, 2, "empty token")
    assert nx.server.count() == 0
    assert not store_path(nx.config_dir).exists()


def test_token_with_inner_spaces_is_refused_unsent(nx):
    result = nx.run("env", "configure", nx.server.host, "--with-token", input="tok a b\n")
    assert_clean_error(result, 2)
    assert nx.server.count() == 0


def test_no_browser_and_with_token_together_still_open_nothing(nx):
    configure(nx, nx.server.host, nx.server.issue_token(), "--no-browser")
    assert nx.browser_log() == []


# --- login ----------------------------------------------------------------------------------


def test_login_signs_in_again_to_the_current_environment(nx):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    nx.server.clear_log()
    token = nx.server.issue_token()
    result = nx.ok("env", "login", "--with-token", input=token + "\n")
    assert f"Current Environment: {nx.server.host}" in result.stderr.splitlines()
    assert result.stdout == ""
    assert nx.server.count() == 1
    assert nx.server.count("GET", "/users/current") == 1
    assert env_record(nx.config_dir, nx.server.host)["session"]["access_token"] == token
    assert nx.browser_log() == []


def test_login_does_not_change_the_current_environment(nx):
    other = second_name(nx)
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    seed_configured(nx, other, nx.server.issue_token())
    other_before = env_record(nx.config_dir, other)
    token = nx.server.issue_token()
    result = nx.ok("env", "login", "--env", nx.server.host, "--with-token", input=token + "\n")
    # It says which environment is signed in to, without calling it current.
    assert f"Signing in to {nx.server.host} (the current environment stays {other})." in (
        result.stderr.splitlines()
    )
    assert "Current Environment:" not in result.stderr
    data = read_store(nx.config_dir)
    assert data["current"] == other
    assert data["environments"][nx.server.host]["session"]["access_token"] == token
    assert data["environments"][other] == other_before


def test_login_does_not_make_an_environment_current_when_none_is(nx):
    other, third = second_name(nx), f"[::1]:{nx.server.port}"
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    seed_configured(nx, other, nx.server.issue_token(), "--no-verify")
    # The fake listens on 127.0.0.1 only: point the third one's API there for its logout.
    seed_configured(nx, third, "tok-x", "--no-verify", "--api-url", nx.server.api_url)
    assert nx.run("env", "remove", third).returncode == 0
    assert read_store(nx.config_dir)["current"] is None
    nx.ok("env", "login", "--env", other, "--with-token", "--no-verify", input="tok-y\n")
    assert read_store(nx.config_dir)["current"] is None


def test_login_honours_nexla_env(nx):
    other = second_name(nx)
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    seed_configured(nx, other, nx.server.issue_token())
    token = nx.server.issue_token()
    env = nx.env_with(NEXLA_ENV=f"https://{nx.server.host}/")
    nx.ok("env", "login", "--with-token", input=token + "\n", env=env)
    assert env_record(nx.config_dir, nx.server.host)["session"]["access_token"] == token


def test_login_with_nothing_configured_is_a_configuration_error(nx):
    result = nx.run("env", "login", "--with-token", input=nx.server.issue_token() + "\n")
    assert_clean_error(result, 3, "nexla env configure")
    assert nx.server.count() == 0
    assert not store_path(nx.config_dir).exists()


@pytest.mark.parametrize(
    "args",
    [
        ("env", "login", "--env", "unknown.example", "--with-token"),
        ("env", "use", "unknown.example"),
        ("env", "show", "--env", "unknown.example"),
        ("env", "logout", "--env", "unknown.example"),
        ("env", "remove", "unknown.example"),
    ],
)
def test_unknown_environment_is_a_configuration_error(nx, args):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    before = store_bytes(nx.config_dir)
    nx.server.clear_log()
    result = nx.run(*args, input="tok-unused\n")
    assert_clean_error(result, 3, "unknown environment: unknown.example")
    assert store_bytes(nx.config_dir) == before
    assert nx.server.count() == 0


def test_unknown_environment_in_nexla_env_is_a_configuration_error(nx):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    result = nx.run("env", "show", env=nx.env_with(NEXLA_ENV="unknown.example"))
    assert_clean_error(result, 3, "unknown.example")


def test_pasted_token_of_the_same_identity_keeps_its_saved_service_key(nx):
    # The same user in the same org (README, "Several orgs"): the key saved for it is its
    # own, so a new session pasted for it keeps the key, and says nothing about it.
    nx.server.add_service_key("svc-key-1")
    nx.ok(
        "token",
        "from-key",
        "--env",
        nx.server.host,
        "--save-key",
        env=nx.env_with(NEXLA_SERVICE_KEY="svc-key-1"),
    )
    saved = env_record(nx.config_dir, nx.server.host)["saved_key"]
    assert saved == {"in": "file", "key": "svc-key-1"}

    token = nx.server.issue_token()
    result = configure(nx, nx.server.host, token)
    assert "service key" not in result.stderr
    record = env_record(nx.config_dir, nx.server.host)
    assert record["saved_key"] == saved
    assert record["session"]["access_token"] == token
    assert "other_identities" not in record


def test_login_to_another_org_keeps_the_first_orgs_key_and_session(nx):
    nx.server.add_service_key("svc-key-2")
    env = nx.env_with(NEXLA_SERVICE_KEY="svc-key-2")
    assert (
        nx.run("token", "from-key", "--env", nx.server.host, "--save-key", env=env).returncode == 0
    )
    first = env_record(nx.config_dir, nx.server.host)["session"]["access_token"]
    other_org = {"id": 8, "name": "Globex"}
    result = nx.ok(
        "env", "login", "--with-token", input=nx.server.issue_token(org=other_org) + "\n"
    )
    assert "Added ada@example.com in Globex (org 8)" in result.stderr
    record = env_record(nx.config_dir, nx.server.host)
    assert record["session"]["org"] == other_org and "saved_key" not in record
    [kept] = record["other_identities"]
    assert kept["saved_key"] == {"in": "file", "key": "svc-key-2"}
    assert kept["session"]["access_token"] == first and nx.server.is_valid(first)


def test_access_token_variable_draws_a_warning_from_configure_and_login(nx):
    env = nx.env_with(NEXLA_ACCESS_TOKEN="tok-from-variable")
    result = configure(nx, nx.server.host, nx.server.issue_token(), env=env)
    assert "NEXLA_ACCESS_TOKEN" in result.stderr
    assert "tok-from-variable" not in result.stderr
    login = nx.ok("env", "login", "--with-token", input=nx.server.issue_token() + "\n", env=env)
    assert "NEXLA_ACCESS_TOKEN" in login.stderr
    logout = nx.ok("env", "logout", env=env)
    assert "NEXLA_ACCESS_TOKEN" in logout.stderr


# --- list -----------------------------------------------------------------------------------


def test_list_marks_the_current_environment(nx):
    other = second_name(nx)
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    seed_configured(nx, other, nx.server.issue_token())
    assert nx.run("env", "logout", "--env", nx.server.host).returncode == 0
    result = nx.ok("env", "list")
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    first = next(line for line in lines if nx.server.host in line)
    second = next(line for line in lines if other in line)
    assert first.startswith("  ") and "not signed in" in first
    assert second.startswith("* ") and "Ada Lovelace" in second and "expires" in second
    assert result.stderr == ""


def test_list_json(nx):
    other = second_name(nx)
    token_a = nx.server.issue_token()
    token_b = nx.server.issue_token(org=None)
    seed_configured(nx, nx.server.host, token_a)
    seed_configured(nx, other, token_b)
    result = nx.ok("env", "list", "--json")
    assert result.stderr == ""
    rows = json.loads(result.stdout)
    assert [row["name"] for row in rows] == [nx.server.host, other]
    a, b = rows
    assert set(a) == {
        "name",
        "current",
        "ui_url",
        "api_url",
        "signed_in",
        "user",
        "org",
        "source",
        "obtained_at",
        "expires_at",
        "expires_estimated",
        "expiry_source",
        "expired",
        "service_key_saved",
        "service_key_location",
        "identity",
        "identities",
    }
    assert (a["current"], b["current"]) == (False, True)
    assert a["ui_url"] == f"https://{nx.server.host}"
    assert a["api_url"] == nx.server.api_url
    assert a["signed_in"] is True
    assert a["user"] == DEFAULT_USER
    assert a["org"] == DEFAULT_ORG
    assert b["org"] is None
    assert a["source"] == "pasted"
    assert a["expires_estimated"] is True
    assert a["expired"] is False
    assert a["service_key_saved"] is False
    assert a["service_key_location"] is None
    assert a["expires_at"].endswith("Z")
    # No token, not even masked, in a listing.
    assert token_a not in result.stdout and token_b not in result.stdout


def test_list_with_nothing_configured(nx):
    text = nx.ok("env", "list")
    assert text.stdout == ""
    assert "nexla env configure" in text.stderr
    as_json = nx.ok("env", "list", "--json")
    assert json.loads(as_json.stdout) == []
    assert not store_path(nx.config_dir).exists()


# --- use ------------------------------------------------------------------------------------


def test_use_changes_the_current_environment(nx):
    other = second_name(nx)
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    seed_configured(nx, other, nx.server.issue_token())
    before = read_store(nx.config_dir)
    result = nx.ok("env", "use", f"https://{nx.server.host}/token")
    assert result.stdout == ""
    assert nx.server.host in result.stderr
    after = read_store(nx.config_dir)
    assert after["current"] == nx.server.host
    assert after["environments"] == before["environments"]


def test_use_an_invalid_name_is_a_usage_error(nx):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    before = store_bytes(nx.config_dir)
    assert_clean_error(nx.run("env", "use", "http://x.example"), 2)
    assert store_bytes(nx.config_dir) == before


# --- show -----------------------------------------------------------------------------------


def test_show_masks_the_token(nx):
    token = nx.server.issue_token()
    seed_configured(nx, nx.server.host, token)
    result = nx.ok("env", "show")
    out = result.stdout
    assert token not in out and token not in result.stderr
    assert token[-4:] in out  # enough to tell tokens apart
    for expected in (
        nx.server.host,
        f"https://{nx.server.host}",
        f"https://{nx.server.host}/token",
        nx.server.api_url,
        "Ada Lovelace",
        "ada@example.com",
        "Example Org",
        "pasted",
        "estimated",
    ):
        assert expected in out, expected
    assert nx.server.count() == 0  # show asks nothing


def test_show_json(nx):
    token = nx.server.issue_token()
    seed_configured(nx, nx.server.host, token)
    result = nx.ok("env", "show", "--json", "--env", nx.server.host)
    assert token not in result.stdout
    details = json.loads(result.stdout)
    assert details["name"] == nx.server.host
    assert details["current"] is True
    assert details["api_url"] == nx.server.api_url
    assert details["token_page"] == f"https://{nx.server.host}/token"
    assert details["token"] != token and details["token"].endswith(token[-4:])
    assert details["user"] == DEFAULT_USER
    assert "accepted" not in details


def test_show_check_accepted(nx):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    nx.server.clear_log()
    result = nx.ok("env", "show", "--check", "--json")
    assert json.loads(result.stdout)["accepted"] is True
    assert nx.server.count() == 1
    assert nx.server.count("GET", "/users/current") == 1


def test_show_check_revoked_token_is_exit_4(nx):
    token = nx.server.issue_token()
    seed_configured(nx, nx.server.host, token)
    nx.server.invalidate(token)
    before = store_bytes(nx.config_dir)
    result = nx.run("env", "show", "--check")
    assert_clean_error(result, 4, "nexla env login")
    assert "NOT accepted" in result.stdout
    assert token not in result.stdout + result.stderr
    as_json = nx.fails(4, "env", "show", "--check", "--json")
    assert json.loads(as_json.stdout)["accepted"] is False
    assert store_bytes(nx.config_dir) == before


def test_show_check_asks_about_the_token_in_nexla_access_token(nx):
    stored = nx.server.issue_token()
    seed_configured(nx, nx.server.host, stored)
    nx.server.invalidate(stored)
    from_variable = nx.server.issue_token()
    result = nx.ok("env", "show", "--check", env=nx.env_with(NEXLA_ACCESS_TOKEN=from_variable))
    assert nx.server.last("GET", "/users/current").authorization == f"Bearer {from_variable}"
    assert from_variable not in result.stdout + result.stderr
    nx.server.invalidate(from_variable)
    nx.fails(4, "env", "show", "--check", env=nx.env_with(NEXLA_ACCESS_TOKEN=from_variable))


def test_show_an_environment_that_is_not_signed_in(nx):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    assert nx.run("env", "logout").returncode == 0
    result = nx.ok("env", "show")
    assert "not signed in" in result.stdout
    details = json.loads(nx.run("env", "show", "--json").stdout)
    assert details["signed_in"] is False and details["token"] is None


# --- logout ---------------------------------------------------------------------------------


def test_logout_tells_the_server_and_forgets_the_token(nx):
    token = nx.server.issue_token()
    seed_configured(nx, nx.server.host, token)
    nx.server.clear_log()
    result = nx.ok("env", "logout")
    assert result.stdout == ""
    assert nx.server.count() == 1
    assert nx.server.last("POST", "/token/logout").authorization == f"Bearer {token}"
    assert not nx.server.is_valid(token)
    env = env_record(nx.config_dir, nx.server.host)
    assert env == {"api_url": nx.server.api_url}  # the environment stays, its session goes
    assert token.encode() not in (store_bytes(nx.config_dir) or b"")
    assert read_store(nx.config_dir)["current"] == nx.server.host


def test_logout_forgets_a_saved_service_key(nx):
    nx.server.add_service_key("svc-key-3")
    env = nx.env_with(NEXLA_SERVICE_KEY="svc-key-3")
    assert (
        nx.run("token", "from-key", "--env", nx.server.host, "--save-key", env=env).returncode == 0
    )
    assert nx.run("env", "logout").returncode == 0
    assert b"svc-key-3" not in (store_bytes(nx.config_dir) or b"")
    assert env_record(nx.config_dir, nx.server.host) == {"api_url": nx.server.api_url}


def test_logout_all(nx):
    other = second_name(nx)
    token_a, token_b = nx.server.issue_token(), nx.server.issue_token()
    seed_configured(nx, nx.server.host, token_a)
    seed_configured(nx, other, token_b)
    nx.ok("env", "logout", "--all")
    sent = {record.authorization for record in nx.server.find("POST", "/token/logout")}
    assert sent == {f"Bearer {token_a}", f"Bearer {token_b}"}
    data = read_store(nx.config_dir)
    assert data["environments"] == {
        nx.server.host: {"api_url": nx.server.api_url},
        other: {"api_url": f"https://{other}/nexla-api"},
    }
    assert data["current"] == other


def test_logout_when_the_server_fails_still_forgets_locally(nx):
    token = nx.server.issue_token()
    seed_configured(nx, nx.server.host, token)
    nx.server.add_fault("POST", "/token/logout", Fault.status(500, {"message": "boom"}), None)
    result = nx.ok("env", "logout")
    assert "warning:" in result.stderr
    assert token not in result.stderr
    assert token.encode() not in (store_bytes(nx.config_dir) or b"")


def test_logout_when_not_signed_in_sends_nothing(nx):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    assert nx.run("env", "logout").returncode == 0
    nx.server.clear_log()
    result = nx.ok("env", "logout")
    assert "Not signed in" in result.stderr
    assert nx.server.count() == 0


def test_logout_with_an_already_revoked_token_succeeds_quietly(nx):
    token = nx.server.issue_token()
    seed_configured(nx, nx.server.host, token)
    nx.server.invalidate(token)
    result = nx.ok("env", "logout")
    assert "warning" not in result.stderr
    assert token.encode() not in (store_bytes(nx.config_dir) or b"")


# --- remove ---------------------------------------------------------------------------------


def test_remove_logs_out_and_forgets_the_environment(nx):
    other = second_name(nx)
    token = nx.server.issue_token()
    seed_configured(nx, other, nx.server.issue_token())
    seed_configured(nx, nx.server.host, token)
    nx.server.clear_log()
    result = nx.ok("env", "remove", nx.server.host)
    assert result.stdout == ""
    assert nx.server.last("POST", "/token/logout").authorization == f"Bearer {token}"
    assert nx.server.count() == 1
    data = read_store(nx.config_dir)
    assert list(data["environments"]) == [other]
    assert token.encode() not in (store_bytes(nx.config_dir) or b"")
    # The current one was removed and exactly one remains: it becomes current.
    assert data["current"] == other
    assert other in result.stderr


def test_remove_the_current_of_three_leaves_none_current(nx):
    other, third = second_name(nx), f"[::1]:{nx.server.port}"
    seed_configured(nx, other, "tok-b", "--no-verify")
    seed_configured(nx, third, "tok-c", "--no-verify")
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    nx.ok("env", "remove", nx.server.host)
    data = read_store(nx.config_dir)
    assert data["current"] is None
    assert sorted(data["environments"]) == sorted([other, third])

    printed = nx.run("token", "print")
    assert_clean_error(printed, 3, "nexla env use")
    assert printed.stdout == ""
    shown = nx.run("env", "show")
    assert_clean_error(shown, 3, "nexla env use")


def test_remove_a_non_current_environment_keeps_the_current_one(nx):
    other = second_name(nx)
    seed_configured(nx, other, nx.server.issue_token())
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    assert nx.run("env", "remove", other).returncode == 0
    data = read_store(nx.config_dir)
    assert data["current"] == nx.server.host
    assert list(data["environments"]) == [nx.server.host]


def test_remove_the_last_environment(nx):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    assert nx.run("env", "remove", nx.server.host).returncode == 0
    assert read_store(nx.config_dir) == {"version": 3, "current": None, "environments": {}}
    result = nx.run("token", "print")
    assert_clean_error(result, 3, "nexla env configure")


# --- two environments through every command -----------------------------------------------


def test_every_command_on_one_environment_leaves_the_other_exactly_as_it_was(nx):
    other = second_name(nx)
    nx.server.add_service_key("svc-key-b")
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    seed_configured(nx, other, nx.server.issue_token())
    assert (
        nx.run(
            "token",
            "from-key",
            "--env",
            other,
            "--save-key",
            env=nx.env_with(NEXLA_SERVICE_KEY="svc-key-b"),
        ).returncode
        == 0
    )
    kept = env_record(nx.config_dir, other)
    assert kept["saved_key"] == {"in": "file", "key": "svc-key-b"}
    a = nx.server.host

    steps = [
        ("env", "configure", a, "--with-token"),
        ("env", "login", "--env", a, "--with-token"),
        ("env", "use", a),
        ("env", "show", "--env", a, "--check"),
        ("env", "list", "--json"),
        ("env", "logout", "--env", a),
        ("env", "login", "--env", a, "--with-token"),
        ("env", "remove", a),
    ]
    for step in steps:
        result = nx.run(*step, input=nx.server.issue_token() + "\n")
        assert result.returncode == 0, (step, result.stderr)
        assert env_record(nx.config_dir, other) == kept, step
    assert list(read_store(nx.config_dir)["environments"]) == [other]
