"""Keyring items name the identity whose key they hold (docs/keyring.md): two orgs' keys on
one environment never share an item, and a copy of the config directory never rewrites or
deletes the original's items, whichever form (an environment's, from before identities, or
an identity's) their account has."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexla_cli.storage import keys

STORE = Path("/home/ada/.config/nexla/credentials.json")
COPY = Path("/srv/ci/nexla/credentials.json")


def _planned(user: object, org: object, store: Path = STORE) -> keys.KeyringItem:
    plan = keys.SavePlan(
        "dataops.nexla.io", keys.IN_KEYRING, store, keys.KeyringItem(keys.SERVICE_NAME, "probe")
    )
    item = plan.for_identity(user, org).item
    assert item is not None
    return item


def test_two_orgs_of_one_user_get_two_items():
    acme, globex = _planned(42, 7), _planned(42, 8)
    assert acme != globex
    assert acme.username == "dataops.nexla.io (user 42, org 7) in /home/ada/.config/nexla"


def test_a_file_plan_has_no_item_to_name():
    plan = keys.SavePlan("dataops.nexla.io", keys.IN_FILE, STORE)
    assert plan.for_identity(42, 7).item is None


@pytest.mark.parametrize(
    ("username", "ours"),
    [
        ("dataops.nexla.io in /home/ada/.config/nexla", True),
        ("dataops.nexla.io in /home/ada/.config/nexla (a1b2c3d4)", True),
        ("dataops.nexla.io (user 42, org 7) in /home/ada/.config/nexla", True),
        ("dataops.nexla.io (user 42, org 7) in /home/ada/.config/nexla (a1b2c3d4)", True),
        ("dataops.nexla.io (user 42, org 7) in /srv/ci/nexla", False),  # the copy's
        ("dataops.nexla.io in /srv/ci/nexla", False),
        ("beta.nexla.com (user 42, org 7) in /home/ada/.config/nexla", False),
        ("dataops.nexla.io (user 42, org 7) in /home/ada/.config/nexla/x", False),
    ],
)
def test_which_items_belong_to_this_config_directory(username, ours):
    item = keys.KeyringItem(keys.SERVICE_NAME, username)
    assert keys.belongs_here(item, "dataops.nexla.io", STORE) is ours
    assert not keys.belongs_here(keys.KeyringItem("other", username), "dataops.nexla.io", STORE)


def test_a_copy_never_owns_the_originals_identity_items():
    item = _planned(42, 7, STORE)
    assert keys.belongs_here(item, "dataops.nexla.io", STORE)
    assert not keys.belongs_here(item, "dataops.nexla.io", COPY)
