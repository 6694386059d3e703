"""Identities under hostile conditions (README, "Several orgs"; docs/signing-in.md, "Another
org, another identity"; docs/file-format.md): a server whose answers leave out or bend who a
session is, hand-edited files, odd --org values. No saved key is lost, and one identity's
token or key is never used for another."""

from __future__ import annotations

import json

import pytest

import nexla_cli
from nexla_cli.fast import fastpath
from tests.support.fake_nexla import Fault
from tests.support.fastpath_worlds import FULL_APP, answer_with
from tests.support.orgs import ACME, ACME_KEY, ADA, GLOBEX, GLOBEX_KEY, keys_for_both
from tests.support.python_api import use_environment
from tests.support.stores import env_record, read_store, write_store_data
from tests.support.tab_presses import protocol_variables, tab_press


def _saved_keys(nx) -> list[object]:
    record = env_record(nx.config_dir, nx.server.host)
    found = [record.get("saved_key")]
    found += [other.get("saved_key") for other in record.get("other_identities", [])]
    return found


def test_a_refresh_answer_that_names_nobody_keeps_the_identity_and_both_keys(nx):
    # A server whose /token/refresh answers with a token alone (no user, no org): the
    # renewed session is still the identity it renewed, so the two never merge.
    keys_for_both(nx)
    for org in ("acme", "globex"):
        nx.server.add_fault(
            "POST",
            "/token/refresh",
            Fault.status(200, {"access_token": f"tok-bare-{org}", "expires_in": 3600}),
        )
        nx.ok("token", "refresh", "--org", org)
    keys = _saved_keys(nx)
    assert {"in": "file", "key": ACME_KEY} in keys
    assert {"in": "file", "key": GLOBEX_KEY} in keys
    assert nx.ok("token", "print", "--org", "acme").stdout == "tok-bare-acme\n"
    assert nx.ok("token", "print", "--org", "globex").stdout == "tok-bare-globex\n"


def test_a_renewal_answer_naming_another_identity_loses_neither_key(nx):
    # A server that answers Acme's refresh with a session it says is Globex's: Acme's
    # identity was known, so it is not merged into Globex's, and neither key is forgotten.
    keys_for_both(nx)
    nx.server.add_fault(
        "POST",
        "/token/refresh",
        Fault.status(
            200,
            {
                "access_token": "tok-bent",
                "expires_in": 3600,
                "user": dict(ADA),
                "org": dict(GLOBEX),
            },
        ),
    )
    nx.run("token", "refresh", "--org", "acme")
    keys = _saved_keys(nx)
    assert {"in": "file", "key": ACME_KEY} in keys
    assert {"in": "file", "key": GLOBEX_KEY} in keys


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"id": 1, "name": "One"}, {"id": True, "name": "Truth"}),
        ({"id": 7, "name": "Seven"}, {"id": 7.0, "name": "Seven point oh"}),
    ],
)
def test_org_ids_equal_only_to_python_are_two_identities(nx, first, second):
    # JSON's 1 and true, 7 and 7.0 are different ids; a token of one never replaces the
    # other's session, and --org never picks the other's token.
    one = nx.server.issue_token(ADA, first)
    nx.ok("env", "configure", nx.server.host, "--with-token", input=one + "\n")
    other = nx.server.issue_token(ADA, second)
    nx.ok("env", "login", "--with-token", input=other + "\n")
    record = env_record(nx.config_dir, nx.server.host)
    assert len(record.get("other_identities", [])) == 1
    assert nx.ok("token", "print", "--org", first["name"]).stdout == one + "\n"
    assert nx.ok("token", "print", "--org", second["name"]).stdout == other + "\n"
    assert nx.ok("token", "print", "--org", str(first["id"])).stdout == one + "\n"
    shown_id = json.dumps(second["id"])
    assert nx.ok("token", "print", "--org", shown_id).stdout == other + "\n"


def _sign_in_to(nx, *orgs) -> list[str]:
    tokens = []
    for org in orgs:
        token = nx.server.issue_token(ADA, org)
        nx.ok("env", "configure", nx.server.host, "--with-token", input=token + "\n")
        tokens.append(token)
    return tokens


@pytest.mark.parametrize("blank", [" ", "\t", "  \n"])
def test_a_blank_org_is_exit_2_on_the_fast_path_too(nx, blank):
    # `--org "$ORG "` with ORG unset: never the org whose name happens to be blank.
    _sign_in_to(nx, {"id": 11, "name": ""}, dict(ACME))
    result = nx.fails(2, "token", "print", "--org", blank)
    assert result.stdout == ""
    assert nx.fails(2, "token", "print", f"--org={blank}").stdout == ""


def test_an_org_less_session_is_not_org_none(nx):
    # The session with no org is "in no org"; --org none is an org named so, or nothing.
    _sign_in_to(nx, None, dict(ACME))
    assert nx.fails(3, "token", "print", "--org", "none").stdout == ""
    named = nx.server.issue_token(ADA, {"id": 12, "name": "None"})
    nx.ok("env", "login", "--with-token", input=named + "\n")
    assert nx.ok("token", "print", "--org", "NONE").stdout == named + "\n"


def test_an_org_id_wins_over_another_orgs_name_equal_to_it(nx):
    # Org 9 is named "7": --org 7 is org 7 (ids are unique, names are not), --org 9 is 9.
    acme, seven = _sign_in_to(nx, dict(ACME), {"id": 9, "name": "7"})
    assert nx.ok("token", "print", "--org", "7").stdout == acme + "\n"
    assert nx.ok("token", "print", "--org", "9").stdout == seven + "\n"
    assert nx.ok("token", "status", "--org", "7").returncode == 0


@pytest.mark.parametrize("blank", ["", " "])
def test_python_api_refuses_a_blank_org_as_the_cli_does(nx, monkeypatch, blank):
    _sign_in_to(nx, {"id": 11, "name": ""}, dict(ACME))
    use_environment(monkeypatch, nx.env)
    monkeypatch.setenv("NEXLA_ORG", "acme")  # org="" is not "unset": it never falls to this
    with pytest.raises(nexla_cli.NexlaError) as raised:
        nexla_cli.get_token(org=blank)
    assert raised.value.exit_code == 2


@pytest.mark.parametrize("odd_id", [[1], {"id": 1}, float("nan"), float("inf")])
def test_an_org_id_that_is_no_plain_value_is_still_one_identity(nx, odd_id):
    # A server's org id that is a list, an object, NaN or Infinity: every command still
    # works (never an unexpected error), and signing in to it again is the same identity.
    first = nx.server.issue_token(ADA, {"id": odd_id, "name": "Odd"})
    nx.ok("env", "configure", nx.server.host, "--with-token", input=first + "\n")
    nx.ok("env", "login", "--with-token", input=nx.server.sign_in(ADA, ACME) + "\n")
    again = nx.server.issue_token(ADA, {"id": odd_id, "name": "Odd"})
    nx.ok("env", "login", "--with-token", input=again + "\n")
    assert len(env_record(nx.config_dir, nx.server.host)["other_identities"]) == 1
    for args in (("env", "list"), ("env", "list", "--json"), ("env", "show"), ("token", "status")):
        nx.ok(*args)
    assert nx.ok("token", "print", "--org", "odd").stdout == again + "\n"
    nx.ok("token", "refresh", "--org", "odd")
    nx.ok("env", "logout", "--org", "odd")
    assert "other_identities" not in env_record(nx.config_dir, nx.server.host)


def test_an_id_edited_into_a_list_in_the_file_is_never_an_unexpected_error(nx):
    sign_in_to_both = _sign_in_to(nx, dict(ACME), dict(GLOBEX))
    assert len(sign_in_to_both) == 2
    data = read_store(nx.config_dir)
    data["environments"][nx.server.host]["other_identities"][0]["session"]["org"]["id"] = [7]
    write_store_data(nx.config_dir, data)
    for args in (("env", "list"), ("env", "list", "--json"), ("env", "show"), ("token", "print")):
        nx.ok(*args)
    nx.ok("env", "logout", "--all")


def test_no_active_identity_among_thousands_is_a_short_error(nx):
    _sign_in_to(nx, dict(ACME))
    data = read_store(nx.config_dir)
    env = data["environments"][nx.server.host]
    session = env.pop("session")
    env["other_identities"] = [
        {"session": {**session, "org": {"id": 1000 + n, "name": f"Org{n}"}}} for n in range(3000)
    ]
    write_store_data(nx.config_dir, data)
    result = nx.fails(4, "token", "print")
    assert len(result.stderr) < 3000
    assert "Org0 (org 1000)" in result.stderr and "2990 more" in result.stderr


HOSTILE_ORGS = [
    dict(ACME),
    dict(GLOBEX),
    {"id": 9, "name": "7"},
    {"id": 11, "name": ""},
    {"id": 70, "name": "ACME"},
    {"id": 12, "name": "Es\u0301cape\x1b[2J\n"},
    {"id": "8", "name": "Eight as text"},
    {"id": True, "name": "Truth"},
    {"id": 13, "name": "Caf\u00e9"},
    None,
]
HOSTILE_CHOICES = [
    ["--org", "7"],
    ["--org", "8"],
    ["--org", "acme"],
    ["--org", "ACME"],
    ["--org", "70"],
    ["--org", " "],
    ["--org", "none"],
    ["--org", "true"],
    ["--org", "caf\u00e9"],
    ["--org", "cafe\u0301"],
    ["--org", "Es\u0301cape\x1b[2J\n"],
    ["--org", "eight as text"],
    ["--user", "ada@example.com"],
    ["--user", " "],
    ["--org", "globex", "--user", "ADA@EXAMPLE.COM"],
    [],
]


def test_the_fast_path_answers_every_hostile_choice_as_the_full_app_or_leaves_it(nx):
    # Among orgs named like other orgs' ids, blank, in other cases and normal forms, with
    # control characters, and ids of every JSON type: whatever `token print --org X` the
    # fast path answers is what the full app answers, and what it cannot decide it leaves.
    _sign_in_to(nx, *HOSTILE_ORGS)
    for choice in HOSTILE_CHOICES:
        for variables in ({}, {"NEXLA_ORG": "junk"}, {"NEXLA_ORG": "globex"}):
            env = nx.env_with(**variables)
            argv = ["token", "print", *choice]
            fast = answer_with(fastpath.token_print, argv, env, nx.tmp_path)
            full = answer_with(FULL_APP, argv, env, nx.tmp_path)
            assert fast == (None, "", "") or fast == full, (choice, variables, fast, full)
            assert full[0] != 1, (choice, variables, full)


def _offered_after_org(nx) -> list[str]:
    variables = protocol_variables("bash", "nexla token print --org ")
    fast = tab_press(nx, variables, "fast")
    assert fast == tab_press(nx, variables, "typer")
    return [each for each in fast[1].split("\n") if each and not each.startswith(":")]


def test_tab_never_offers_a_server_name_the_shell_would_run(nx):
    # Names with no space that a shell still expands or runs: offered by id, never as
    # they are; an id that is no shell word either is not offered at all.
    _sign_in_to(
        nx,
        {"id": 21, "name": "$(touch${IFS}pwned)"},
        {"id": 22, "name": "`id`"},
        {"id": 23, "name": "a;reboot"},
        {"id": 24, "name": "*"},
        {"id": "$(id)", "name": "x|y"},
        {"id": 25, "name": "Globex-EU_2.0"},
    )
    offered = _offered_after_org(nx)
    assert sorted(offered) == ["21", "22", "23", "24", "Globex-EU_2.0"]


def test_tab_offers_the_id_where_the_name_would_choose_another_org(nx):
    # Org 9 is named "7" (and --org 7 is org 7); Acme and ACME are two orgs of one name.
    _sign_in_to(nx, dict(ACME), {"id": 9, "name": "7"}, {"id": 70, "name": "ACME"}, dict(GLOBEX))
    offered = _offered_after_org(nx)
    assert sorted(offered) == sorted(["7", "9", "70", "Globex"])


def test_python_api_takes_an_org_id_as_a_number_and_refuses_other_types(nx, monkeypatch):
    acme, _ = _sign_in_to(nx, dict(ACME), dict(GLOBEX))
    use_environment(monkeypatch, nx.env)
    assert nexla_cli.get_token(org=7) == acme
    assert nexla_cli.NexlaAuth(org=7).who == nexla_cli.NexlaAuth(org="acme").who
    for odd in (True, 7.5, ["acme"], b"acme"):
        with pytest.raises(nexla_cli.NexlaError) as raised:
            nexla_cli.get_token(org=odd)
        assert raised.value.exit_code == 2


def test_logout_with_no_active_identity_names_the_others_and_ends_none(nx):
    # Sessions remain in Acme and Globex but none is active (a hand edit, or the active one
    # logged out beside two others): `env logout` alone must not say "not signed in".
    keys_for_both(nx)
    data = read_store(nx.config_dir)
    env = data["environments"][nx.server.host]
    active = {"session": env.pop("session"), "saved_key": env.pop("saved_key")}
    env["other_identities"].append(active)
    write_store_data(nx.config_dir, data)
    before = read_store(nx.config_dir)
    result = nx.fails(4, "env", "logout")
    assert "no identity is active" in result.stderr
    assert "Acme (org 7)" in result.stderr and "--org" in result.stderr
    assert read_store(nx.config_dir) == before
    assert nx.server.count("POST", "/token/logout") == 0


def test_a_duplicated_identity_in_the_file_can_still_be_chosen_and_logged_out(nx):
    # A hand edit (or a restored backup merged by hand) that lists one identity twice:
    # --org names it (the first), and logging out twice ends both.
    _sign_in_to(nx, dict(ACME), dict(GLOBEX))
    data = read_store(nx.config_dir)
    env = data["environments"][nx.server.host]
    twin = json.loads(json.dumps(env["other_identities"][0]))
    twin["session"]["access_token"] = "tok-twin"
    env["other_identities"].append(twin)
    write_store_data(nx.config_dir, data)
    first = env["other_identities"][0]["session"]["access_token"]
    assert nx.ok("token", "print", "--org", "acme").stdout == first + "\n"
    nx.ok("env", "logout", "--org", "acme")
    assert nx.ok("token", "print", "--org", "acme").stdout == "tok-twin\n"
    nx.ok("env", "logout", "--org", "acme")
    nx.fails(3, "token", "print", "--org", "acme")


def _session_of(nx, **changes) -> dict:
    data = read_store(nx.config_dir)
    session = dict(data["environments"][nx.server.host]["session"])
    session.update(changes)
    return session


ODD_OTHERS = [
    lambda nx: [{}],
    lambda nx: [{"session": None}],
    lambda nx: [{"saved_key": {"in": "file", "key": "svc-orphan-" + "o" * 20}}],
    lambda nx: [{"session": _session_of(nx, org="Acme")}],
    lambda nx: [{"session": _session_of(nx, user=None)}],
    lambda nx: [{"session": _session_of(nx, org={"id": None, "name": None})}],
    lambda nx: [{"session": _session_of(nx, org={"name": 5})}],
    lambda nx: [{"session": _session_of(nx, org={"id": 7, "name": {"x": 1}})}],
    lambda nx: [{"session": _session_of(nx, user={"id": 42, "email": ["a@b"]})}],
    lambda nx: [{"session": _session_of(nx, user={"id": {"x": [1]}, "email": 5})}],
    lambda nx: [{"session": _session_of(nx, access_token="two words")}],
    lambda nx: [{"session": _session_of(nx, org={"id": 7, "name": "Acme"}), "extra": [1]}],
]
READERS = [
    ("env", "list"),
    ("env", "list", "--json"),
    ("env", "show"),
    ("env", "show", "--json"),
    ("token", "status"),
    ("token", "status", "--json"),
    ("token", "print"),
    ("token", "print", "--org", "acme"),
    ("token", "print", "--user", "a@b"),
    ("env", "use", "HOST", "--org", "acme"),
    ("env", "logout", "--org", "acme"),
    ("env", "logout", "--all"),
]


@pytest.mark.parametrize("odd", range(len(ODD_OTHERS)))
def test_an_odd_identity_edited_into_the_file_is_never_an_unexpected_error(nx, odd):
    _sign_in_to(nx, dict(GLOBEX))
    others = ODD_OTHERS[odd](nx)
    data = read_store(nx.config_dir)
    data["environments"][nx.server.host]["other_identities"] = others
    write_store_data(nx.config_dir, data)
    for args in READERS:
        result = nx.run(*[arg.replace("HOST", nx.server.host) for arg in args])
        assert result.returncode in (0, 2, 3, 4), (args, result.returncode, result.stderr)


def test_logout_of_an_unreadable_active_session_never_ends_one_signed_in_meanwhile(
    nx, monkeypatch
):
    # `env logout` meant for an active session that cannot be read; between its reading the
    # file and taking the lock, another command signs in to Globex with a saved key, which
    # becomes active. That identity is not the one meant: its session and key stay.
    from nexla_cli.auth import environments

    keys_for_both(nx)
    nx.ok("env", "logout", "--org", "globex")
    data = read_store(nx.config_dir)
    data["environments"][nx.server.host]["session"]["access_token"] = "two words"
    write_store_data(nx.config_dir, data)
    real = environments._logout_one

    def meanwhile(*args, **kwargs):
        env = nx.env_with(NEXLA_SERVICE_KEY=GLOBEX_KEY)
        nx.ok("token", "from-key", "--save-key", env=env)
        return real(*args, **kwargs)

    monkeypatch.setattr(environments, "_logout_one", meanwhile)
    nx.run("env", "logout")
    monkeypatch.setattr(environments, "_logout_one", real)
    assert {"in": "file", "key": GLOBEX_KEY} in _saved_keys(nx)
    assert nx.server.count("POST", "/token/logout") == 1  # Globex's first logout alone
    nx.ok("token", "print", "--org", "globex")


@pytest.mark.parametrize("org", [{}, {"name": "Acme"}, "Acme", [7]])
def test_a_refresh_answer_whose_org_has_no_id_keeps_the_org_it_renewed(nx, org):
    keys_for_both(nx)
    body = {"access_token": "tok-vague", "expires_in": 3600, "user": dict(ADA), "org": org}
    nx.server.add_fault("POST", "/token/refresh", Fault.status(200, body))
    nx.ok("token", "refresh", "--org", "acme")
    assert nx.ok("token", "print", "--org", "acme").stdout == "tok-vague\n"
    assert {"in": "file", "key": ACME_KEY} in _saved_keys(nx)


def test_an_identity_holding_only_a_key_is_listed_as_such(nx):
    # Not "cannot be read": its session is not damaged, there is none.
    _sign_in_to(nx, dict(GLOBEX))
    data = read_store(nx.config_dir)
    data["environments"][nx.server.host]["other_identities"] = [
        {"saved_key": {"in": "file", "key": "svc-orphan-" + "o" * 20}}
    ]
    write_store_data(nx.config_dir, data)
    listed = nx.ok("env", "list").stdout
    assert "an identity with a saved service key and no session" in listed
    assert "cannot be read" not in listed


def test_list_check_shows_each_identity_its_own_result_whatever_its_org_id(nx):
    # Orgs 1 and true are equal to Python: their checks must not be taken for each other's.
    one, truth = _sign_in_to(nx, {"id": 1, "name": "One"}, {"id": True, "name": "Truth"})
    nx.server.expire(one)
    result = nx.fails(4, "env", "list", "--check")
    lines = result.stdout.splitlines()
    (truth_line,) = [line for line in lines if "Truth" in line]
    (one_line,) = [line for line in lines if "in One" in line]
    assert "[valid" in truth_line and "[rejected" in one_line
