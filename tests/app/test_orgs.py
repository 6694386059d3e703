"""Several identities (orgs, users) on one environment (README, "Several orgs";
docs/signing-in.md): each sign-in or service key adds or updates the identity the server
names, never another one; --org/--user (and NEXLA_ORG/NEXLA_USER) choose one; renewal, saved
keys, logout and removal are per identity."""

from __future__ import annotations

import json

from tests.support.orgs import (
    ACME,
    ACME_KEY,
    ADA,
    ADA_IN_ACME,
    ADA_IN_GLOBEX,
    BOB,
    BOB_IN_ACME,
    GLOBEX,
    GLOBEX_KEY,
    keys_for_both,
    sign_in_to_both,
    two_orgs,
)
from tests.support.stores import env_record, read_store, set_times, write_store_data


def _identities(nx) -> list[dict]:
    return json.loads(nx.ok("env", "show", "--json").stdout)["identities"]


# ---- adding -----------------------------------------------------------------------------


def test_a_second_orgs_sign_in_adds_an_identity_and_ends_nothing(nx):
    acme, globex = sign_in_to_both(nx)
    assert nx.server.is_valid(acme) and nx.server.is_valid(globex)
    assert nx.server.count("POST", "/token/logout") == 0
    listed = _identities(nx)
    assert [(each["identity"], each["active"]) for each in listed] == [
        (ADA_IN_GLOBEX, True),
        (ADA_IN_ACME, False),
    ]
    assert nx.ok("token", "print").stdout == globex + "\n"  # the one signed in last
    assert nx.ok("token", "print", "--org", "acme").stdout == acme + "\n"
    assert nx.ok("token", "print", "--org", "7").stdout == acme + "\n"
    assert nx.ok("token", "print", "--org", "GLOBEX").stdout == globex + "\n"
    assert nx.ok("token", "print", env=nx.env_with(NEXLA_ORG="Acme")).stdout == acme + "\n"
    both = nx.env_with(NEXLA_ORG="Acme")
    assert nx.ok("token", "print", "--org", "8", env=both).stdout == globex + "\n"


def test_signing_in_again_to_one_org_replaces_only_its_session(nx):
    acme, globex = sign_in_to_both(nx)
    again = nx.server.sign_in(ADA, ACME)
    result = nx.ok("env", "login", "--with-token", input=again + "\n")
    assert "Added" not in result.stderr  # not new: updated
    assert nx.ok("token", "print").stdout == again + "\n"  # and active again
    assert nx.ok("token", "print", "--org", "globex").stdout == globex + "\n"
    assert len(_identities(nx)) == 2


def test_service_keys_of_two_orgs_are_saved_apart_and_both_kept(nx):
    keys_for_both(nx)
    record = env_record(nx.config_dir, nx.server.host)
    assert record["saved_key"] == {"in": "file", "key": GLOBEX_KEY}
    [acme] = record["other_identities"]
    assert acme["saved_key"] == {"in": "file", "key": ACME_KEY}
    # A pasted token of Acme's keeps both keys: each is its own identity's.
    token = nx.server.sign_in(ADA, ACME)
    nx.ok("env", "login", "--with-token", input=token + "\n")
    record = env_record(nx.config_dir, nx.server.host)
    assert record["saved_key"] == {"in": "file", "key": ACME_KEY}
    assert record["other_identities"][0]["saved_key"] == {"in": "file", "key": GLOBEX_KEY}


# ---- choosing ---------------------------------------------------------------------------


def test_an_org_with_no_identity_is_exit_3_naming_those_there_are_and_sends_nothing(nx):
    sign_in_to_both(nx)
    nx.server.clear_log()
    result = nx.fails(3, "token", "print", "--org", "initech")
    assert ADA_IN_ACME in result.stderr and ADA_IN_GLOBEX in result.stderr
    assert result.stdout == "" and nx.server.count() == 0
    nx.fails(3, "api", "/teams", env=nx.env_with(NEXLA_ORG="initech"))
    assert nx.server.count() == 0


def test_two_users_in_one_org_need_user_to_narrow(nx):
    sign_in_to_both(nx)
    bob = nx.server.sign_in(BOB, ACME)
    nx.ok("env", "login", "--with-token", input=bob + "\n")
    result = nx.fails(2, "token", "print", "--org", "acme")
    assert ADA_IN_ACME in result.stderr and BOB_IN_ACME in result.stderr
    assert "--user" in result.stderr
    narrowed = nx.ok("token", "print", "--org", "acme", "--user", "ADA@example.com")
    assert narrowed.stdout != bob + "\n"
    assert nx.ok("token", "print", "--org", "acme", "--user", BOB["email"]).stdout == bob + "\n"
    env = nx.env_with(NEXLA_USER=BOB["email"])
    assert nx.ok("token", "print", "--org", "acme", env=env).stdout == bob + "\n"


def test_env_use_org_makes_an_identity_active(nx):
    acme, _ = sign_in_to_both(nx)
    result = nx.ok("env", "use", nx.server.host, "--org", "Acme")
    assert f"Active identity on {nx.server.host}: {ADA_IN_ACME}" in result.stderr
    assert nx.ok("token", "print").stdout == acme + "\n"
    nx.fails(3, "env", "use", nx.server.host, "--org", "initech")
    assert nx.ok("token", "print").stdout == acme + "\n"


def test_status_show_and_list_name_every_identity(nx):
    sign_in_to_both(nx)
    status = nx.ok("token", "status", "--org", "acme", "--json")
    assert json.loads(status.stdout)["org"] == ACME
    assert json.loads(nx.ok("token", "status", "--json").stdout)["org"] == GLOBEX
    show = nx.ok("env", "show", "--org", "acme")
    assert "Acme (id 7)" in show.stdout
    [also] = [line for line in show.stdout.splitlines() if line.startswith("Also signed in:")]
    assert also.endswith(f" {ADA_IN_GLOBEX} (--org)")
    shown = json.loads(nx.ok("env", "show", "--json", "--org", "acme").stdout)
    assert shown["identity"] == ADA_IN_ACME and shown["org"] == ACME
    listing = nx.ok("env", "list").stdout
    assert ADA_IN_ACME in listing and "<ada@example.com> in Globex (org 8)" in listing
    [entry] = json.loads(nx.ok("env", "list", "--json").stdout)
    assert entry["org"] == GLOBEX  # the active identity's, as before
    assert [each["org"] for each in entry["identities"]] == [GLOBEX, ACME]
    checked = json.loads(nx.ok("env", "list", "--check", "--json").stdout)[0]
    assert [each["check"] for each in checked["identities"]] == ["valid", "valid"]
    assert nx.server.count("GET", "/users/current") >= 2


def test_export_and_exec_hand_over_the_chosen_identitys_token(nx):
    acme, globex = sign_in_to_both(nx)
    exported = nx.ok("token", "export", "--format", "json", "--org", "acme").stdout
    assert json.loads(exported)["NEXLA_ACCESS_TOKEN"] == acme
    exported = nx.ok("token", "export", "--format", "json").stdout
    assert json.loads(exported)["NEXLA_ACCESS_TOKEN"] == globex
    dump = nx.tmp_path / "child-token"
    child = ("sh", "-c", 'printf %s "$NEXLA_ACCESS_TOKEN" > "$1"', "sh", str(dump))
    nx.ok("token", "exec", "--org", "acme", "--", *child)
    assert dump.read_text() == acme
    nx.ok("token", "exec", "--", *child, env=nx.env_with(NEXLA_ORG="Globex"))
    assert dump.read_text() == globex


def test_api_sends_the_chosen_identitys_token(nx):
    acme, globex = sign_in_to_both(nx)
    nx.ok("api", "/teams", "--org", "acme")
    assert nx.server.last("GET", "/teams").authorization == f"Bearer {acme}"
    nx.ok("api", "/teams")
    assert nx.server.last("GET", "/teams").authorization == f"Bearer {globex}"


# ---- apart in renewal -----------------------------------------------------------------------


def test_a_due_identity_is_renewed_alone(nx):
    acme, globex = sign_in_to_both(nx)
    nx.server.clear_log()
    data = read_store(nx.config_dir)
    data["environments"][nx.server.host]["other_identities"][0]["session"]["expires_at"] = 1
    write_store_data(nx.config_dir, data)
    renewed = nx.ok("token", "print", "--org", "acme").stdout.strip()
    assert renewed not in (acme, globex) and nx.server.count("POST", "/token/refresh") == 1
    assert nx.server.token_info(renewed).org["id"] == ACME["id"]
    assert nx.ok("token", "print").stdout == globex + "\n"  # untouched, still active
    assert nx.ok("token", "print", "--org", "acme").stdout == renewed + "\n"


def test_an_expired_org_is_minted_from_its_own_key(nx):
    keys_for_both(nx)
    set_times(nx, lifetime=3600, left=-10)  # the active one: Globex
    nx.server.clear_log()
    token = nx.ok("token", "print").stdout.strip()
    assert nx.server.token_info(token).org["id"] == GLOBEX["id"]
    assert nx.server.last("POST", "/token").authorization == f"Basic {GLOBEX_KEY}"


def test_refresh_org_renews_that_identity(nx):
    acme, globex = sign_in_to_both(nx)
    result = nx.ok("token", "refresh", "--org", "acme", "--print")
    assert nx.server.token_info(result.stdout.strip()).org["id"] == ACME["id"]
    assert not nx.server.is_valid(acme) and nx.server.is_valid(globex)


# ---- logout and remove --------------------------------------------------------------------


def test_logout_org_ends_that_identity_alone(nx):
    acme, globex = sign_in_to_both(nx)
    result = nx.ok("env", "logout", "--org", "acme")
    assert f"Logged out of {nx.server.host} as {ADA_IN_ACME}." in result.stderr
    assert not nx.server.is_valid(acme) and nx.server.is_valid(globex)
    assert [each["identity"] for each in _identities(nx)] == [ADA_IN_GLOBEX]
    nx.fails(3, "token", "print", "--org", "acme")
    assert nx.ok("token", "print").stdout == globex + "\n"


def test_logout_of_the_active_identity_leaves_the_other_one_active(nx):
    acme, globex = sign_in_to_both(nx)
    nx.ok("env", "logout")
    assert not nx.server.is_valid(globex) and nx.server.is_valid(acme)
    assert nx.ok("token", "print").stdout == acme + "\n"


def test_logout_all_ends_every_identity_of_every_environment(nx):
    keys_for_both(nx)
    nx.ok("env", "logout", "--all")
    record = env_record(nx.config_dir, nx.server.host)
    assert "session" not in record and "saved_key" not in record
    assert "other_identities" not in record
    assert nx.server.count("POST", "/token/logout") == 2


def test_remove_forgets_every_identity_and_key(nx):
    keys_for_both(nx)
    nx.ok("env", "remove", nx.server.host)
    assert read_store(nx.config_dir)["environments"] == {}
    assert nx.server.count("POST", "/token/logout") == 2
    text = (nx.config_dir / "credentials.json").read_text()
    assert ACME_KEY not in text and GLOBEX_KEY not in text


def test_a_second_org_of_a_service_key_comes_from_from_key_too(nx):
    two_orgs(nx.server)
    acme = nx.server.sign_in(ADA, ACME)
    nx.ok("env", "configure", nx.server.host, "--with-token", input=acme + "\n")
    env = nx.env_with(NEXLA_SERVICE_KEY=GLOBEX_KEY)
    result = nx.ok("token", "from-key", "--save-key", env=env)
    assert f"Added {ADA_IN_GLOBEX} to {nx.server.host}" in result.stderr
    assert nx.server.is_valid(acme)
    assert nx.ok("token", "print", "--org", "acme").stdout == acme + "\n"


def test_a_hint_to_renew_an_identity_that_is_not_active_names_its_org(nx):
    keys_for_both(nx)  # Globex active, Acme beside it, each with its key
    data = read_store(nx.config_dir)
    data["environments"][nx.server.host]["other_identities"][0]["session"]["expires_at"] = 1
    write_store_data(nx.config_dir, data)
    result = nx.fails(4, "token", "status", "--org", "acme")
    assert f"nexla token refresh --env {nx.server.host} --org 7`" in result.stderr
    assert nx.ok("token", "refresh", "--env", nx.server.host, "--org", "7")
    assert nx.ok("token", "status", "--org", "acme")


def test_an_unverified_session_becomes_the_identity_the_server_names_when_renewed(nx):
    acme, globex = sign_in_to_both(nx)
    nx.ok("token", "from-key", "--save-key", env=nx.env_with(NEXLA_SERVICE_KEY=ACME_KEY))
    unverified = nx.server.sign_in(ADA, ACME)
    nx.ok("env", "login", "--with-token", "--no-verify", input=unverified + "\n")
    assert len(_identities(nx)) == 3  # whose it is is not known yet
    renewed = nx.ok("token", "refresh", "--print").stdout.strip()
    assert nx.server.token_info(renewed).org == ACME
    listed = _identities(nx)
    assert [each["identity"] for each in listed] == [ADA_IN_ACME, ADA_IN_GLOBEX]
    assert listed[0]["active"] and listed[0]["service_key_location"] == "file"
    assert nx.ok("token", "print", "--org", "acme").stdout == renewed + "\n"


def test_logout_all_forgets_an_identity_whose_session_cannot_be_read(nx):
    keys_for_both(nx)
    bob = nx.server.sign_in(BOB, ACME)
    nx.ok("env", "login", "--with-token", input=bob + "\n")  # three identities now
    data = read_store(nx.config_dir)
    data["environments"][nx.server.host]["other_identities"][0]["session"]["expires_at"] = "x"
    write_store_data(nx.config_dir, data)
    listing = nx.ok("env", "list").stdout
    assert "an identity whose session cannot be read" in listing
    nx.ok("env", "logout", "--all")
    record = env_record(nx.config_dir, nx.server.host)
    assert set(record) == {"api_url"}
    assert nx.server.count("POST", "/token/logout") == 2  # nothing sent for the unreadable one
