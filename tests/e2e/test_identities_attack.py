"""Identities under a crowd of real processes (README, "Several orgs"; docs/file-format.md):
from-key, sign-ins, refreshes and logouts of two orgs at once never lose or swap a key."""

from __future__ import annotations

from tests.support.orgs import ACME, ACME_KEY, ADA, GLOBEX_KEY, keys_for_both
from tests.support.processes import collect, start
from tests.support.stores import env_record


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
