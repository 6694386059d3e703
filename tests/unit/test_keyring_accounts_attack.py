"""Keyring items of identities whose ids a server made odd (docs/keyring.md): whatever the
ids, the item a config directory makes is one it owns (so logging out deletes it, never
leaving a key behind), and no copy of the directory owns it."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexla_cli.storage import keys

STORE = Path("/home/ada/.config/nexla/credentials.json")
COPY = Path("/srv/ci/nexla/credentials.json")
NAME = "dataops.nexla.io"


@pytest.mark.parametrize(
    ("user", "org"),
    [
        (42, "(7)"),
        ("a(b", 7),
        (42, "7) in /srv/ci/nexla (x"),
        (42, "x, org 8"),
        (None, None),
        (42, "[1]"),
        (42, "line\nbreak"),
    ],
)
def test_an_item_for_odd_ids_is_this_directorys_and_no_copys(user, org):
    plan = keys.SavePlan(NAME, keys.IN_KEYRING, STORE, keys.KeyringItem(keys.SERVICE_NAME, "p"))
    item = plan.for_identity(user, org).item
    assert item is not None
    assert keys.belongs_here(item, NAME, STORE)
    assert not keys.belongs_here(item, NAME, COPY)
    assert "\n" not in item.username
