"""Two orgs' service keys in the OS keyring (docs/keyring.md, README "Several orgs"): each in
an item of its own, named for its identity; logging out of one org deletes its item alone,
and `env remove` deletes every one. A real Secret Service over D-Bus."""

from __future__ import annotations

import pytest

from tests.support.orgs import ACME_KEY, GLOBEX_KEY, keys_for_both
from tests.support.secret_service import keyring_for
from tests.support.stores import env_record


@pytest.fixture
def keyring_env(nx):
    with keyring_for(nx) as service:
        yield service


def _items(nx) -> dict[int, dict[str, str]]:
    """{org id: the keyring item the file names for that org's key}."""
    record = env_record(nx.config_dir, nx.server.host)
    found = {}
    for each in [record, *record.get("other_identities", [])]:
        saved = each["saved_key"]
        assert saved["in"] == "keyring", saved
        found[each["session"]["org"]["id"]] = {
            "service": saved["service"],
            "username": saved["username"],
        }
    return found


def test_two_orgs_keys_live_in_two_items_and_go_with_their_identity(nx, keyring_env):
    keys_for_both(nx)
    items = _items(nx)
    assert items[7]["username"] == f"{nx.server.host} (user 42, org 7) in {nx.config_dir}"
    assert items[8]["username"] == f"{nx.server.host} (user 42, org 8) in {nx.config_dir}"
    assert keyring_env.lookup(**items[7]) == ACME_KEY
    assert keyring_env.lookup(**items[8]) == GLOBEX_KEY

    nx.ok("env", "logout", "--org", "acme", env=nx.env)
    assert keyring_env.lookup(**items[7]) is None
    assert keyring_env.lookup(**items[8]) == GLOBEX_KEY

    keys_for_both(nx)
    items = _items(nx)
    nx.ok("env", "remove", nx.server.host, env=nx.env)
    assert [keyring_env.lookup(**item) for item in items.values()] == [None, None]
