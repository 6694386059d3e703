"""Identities under a crowd of real processes (README, "Several orgs"; docs/file-format.md):
from-key, sign-ins, refreshes and logouts of two orgs at once never lose or swap a key."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.orgs import ACME, ACME_KEY, ADA, GLOBEX_KEY, keys_for_both, two_orgs
from tests.support.processes import collect, start
from tests.support.secret_service import keyring_for
from tests.support.stores import env_record, write_store_data


def _keys_by_org(nx) -> dict[int, object]:
    record = env_record(nx.config_dir, nx.server.host)
    return {
        each["session"]["org"]["id"]: each.get("saved_key")
        for each in [record, *record.get("other_identities", [])]
        if "session" in each
    }


def test_a_crowd_on_two_orgs_keeps_each_key_with_its_own_org(nx):
    keys_for_both(nx)
    host = nx.server.host
    procs = []
    for round_ in range(3):
        for key in (ACME_KEY, GLOBEX_KEY):
            env = nx.env_with(NEXLA_SERVICE_KEY=key)
            procs.append(start(nx, "token", "from-key", "--env", host, "--save-key", env=env))
        token = nx.server.sign_in(ADA, ACME)
        procs.append(start(nx, "env", "login", "--env", host, "--with-token", input=token + "\n"))
        procs.append(start(nx, "token", "refresh", "--org", "globex"))
        if round_ == 1:
            procs.append(start(nx, "env", "logout", "--org", "acme"))
    results = collect(procs)
    assert all(result.returncode in (0, 3, 4) for result in results), [
        (result.args, result.returncode, result.stderr) for result in results
    ]
    keys = _keys_by_org(nx)
    assert keys[8] == {"in": "file", "key": GLOBEX_KEY}
    assert keys.get(7) in (None, {"in": "file", "key": ACME_KEY})
    assert nx.ok("token", "print", "--org", "globex").returncode == 0


@pytest.fixture
def keyring_env(nx):
    with keyring_for(nx) as service:
        yield service


def test_an_item_saved_before_identities_goes_with_its_identity_alone(nx, keyring_env):
    # A format 2 file whose one session (Acme) has its key in an item named before
    # identities ("HOST in DIR"): a key of Globex saved beside it, Globex logged out, Acme's
    # key saved again; the old item is deleted with Acme's identity only.
    two_orgs(nx.server)
    host = nx.server.host
    legacy = {"service": "nexla service key", "username": f"{host} in {nx.config_dir}"}
    keyring_env.store(legacy["service"], legacy["username"], ACME_KEY)
    session = {
        "access_token": nx.server.sign_in(ADA, ACME),
        "obtained_at": int(time.time()),
        "expires_at": int(time.time()) + 3600,
        "source": "service_key",
        "user": dict(ADA),
        "org": dict(ACME),
    }
    record = {
        "api_url": nx.server.api_url,
        "session": session,
        "saved_key": {"in": "keyring", **legacy},
    }
    write_store_data(
        nx.config_dir, {"version": 2, "current": host, "environments": {host: record}}
    )
    keys = nx.env_with(NEXLA_SERVICE_KEY=GLOBEX_KEY)
    nx.ok("token", "from-key", "--save-key", env=keys)
    assert keyring_env.lookup(**legacy) == ACME_KEY
    nx.ok("env", "logout", "--org", "globex", env=nx.env)
    assert keyring_env.lookup(**legacy) == ACME_KEY
    nx.ok("token", "from-key", "--save-key", env=nx.env_with(NEXLA_SERVICE_KEY=ACME_KEY))
    assert env_record(nx.config_dir, host)["saved_key"] == {"in": "keyring", **legacy}
    nx.ok("env", "logout", "--org", "acme", env=nx.env)
    assert keyring_env.lookup(**legacy) is None


def test_a_crowd_on_two_orgs_in_the_keyring_leaves_each_key_in_its_own_item(nx, keyring_env):
    two_orgs(nx.server)
    host = nx.server.host
    for key in (ACME_KEY, GLOBEX_KEY):
        env = dict(nx.env, NEXLA_SERVICE_KEY=key)
        nx.ok("token", "from-key", "--env", host, "--save-key", env=env)
    procs = []
    for round_ in range(3):
        for key in (ACME_KEY, GLOBEX_KEY):
            env = dict(nx.env, NEXLA_SERVICE_KEY=key)
            procs.append(start(nx, "token", "from-key", "--env", host, "--save-key", env=env))
        token = nx.server.sign_in(ADA, ACME)
        procs.append(
            start(nx, "env", "login", "--env", host, "--with-token", input=token + "\n", env=nx.env)
        )
        if round_ == 1:
            procs.append(start(nx, "env", "logout", "--org", "acme", env=nx.env))
    results = collect(procs)
    assert all(result.returncode in (0, 3, 4) for result in results), [
        (result.args, result.returncode, result.stderr) for result in results
    ]
    record = env_record(nx.config_dir, host)
    named = {}
    for each in [record, *record.get("other_identities", [])]:
        if "session" in each and each.get("saved_key"):
            saved = each["saved_key"]
            named[each["session"]["org"]["id"]] = keyring_env.lookup(
                saved["service"], saved["username"]
            )
    assert named[8] == GLOBEX_KEY
    assert named.get(7, ACME_KEY) == ACME_KEY
    ours = [item for item in keyring_env.items() if item.get("service") == "nexla service key"]
    assert len(ours) == len(named), ours  # no item left behind that the file does not name


def test_org_7_and_org_text_7_keep_their_keys_in_two_items(nx, keyring_env):
    # Two orgs whose ids print alike (7 and "7") name one keyring account: the second key
    # goes into an item of its own, and logging out of one leaves the other's key.
    text_seven = {"id": "7", "name": "Seven as text"}
    nx.server.add_service_key(ACME_KEY, user=ADA, org=dict(ACME))
    nx.server.add_service_key(GLOBEX_KEY, user=ADA, org=text_seven)
    host = nx.server.host
    for key in (ACME_KEY, GLOBEX_KEY):
        env = dict(nx.env, NEXLA_SERVICE_KEY=key)
        nx.ok("token", "from-key", "--env", host, "--save-key", env=env)
    record = env_record(nx.config_dir, host)
    items = {
        json.dumps(each["session"]["org"]["id"]): each["saved_key"]
        for each in [record, *record["other_identities"]]
    }
    assert items["7"]["username"] != items['"7"']["username"]
    assert keyring_env.lookup(items["7"]["service"], items["7"]["username"]) == ACME_KEY
    assert keyring_env.lookup(items['"7"']["service"], items['"7"']["username"]) == GLOBEX_KEY
    nx.ok("env", "logout", "--org", "seven as text", env=nx.env)
    assert keyring_env.lookup(items["7"]["service"], items["7"]["username"]) == ACME_KEY
    assert keyring_env.lookup(items['"7"']["service"], items['"7"']["username"]) is None
