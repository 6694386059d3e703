"""Service keys and the OS keyring, in-process (docs/keyring.md): what needs no keyring.

Commands that only read the file (`env show`, `token status`) say where a saved key is; a
NEXLA_KEY_STORAGE value that is not one of the documented ones is refused before anything
happens. Whatever reaches a real keyring is in tests/e2e/test_keyring.py: the keyring library
finds D-Bus through the process's own environment, so only a real `nexla` reaches the test's.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.support.fake_nexla import API_PREFIX
from tests.support.keyring_items import (
    KEY,
    OTHER_KEY,
    keyring_reference,
    minted_record,
)
from tests.support.outcomes import assert_error, describe
from tests.support.signing_in import from_key, second_name
from tests.support.stores import (
    config_bytes,
    write_store,
)

# Keeping, using and forgetting a key -------------------------------------------------------


def test_show_and_status_say_where_the_key_is_and_never_the_key(nx):
    # In-process, without a keyring: these commands read the file alone. One environment's
    # record names the keyring item its key is in, as from-key --save-key writes it; another
    # keeps its key in the file, as it does under NEXLA_KEY_STORAGE=file.
    other = second_name(nx)
    now = int(time.time())
    token = nx.server.issue_token(source="service_key")
    session = {"access_token": token, "obtained_at": now, "expires_at": now + 3600}
    in_keyring = minted_record(nx, session, saved_key={"in": "keyring", **keyring_reference(nx)})
    in_file = minted_record(nx, session, saved_key={"in": "file", "key": OTHER_KEY})
    in_file["api_url"] = f"https://{other}{API_PREFIX}"
    write_store(nx.config_dir, {nx.server.host: in_keyring, other: in_file}, nx.server.host)
    env = nx.env

    expected = {nx.server.host: ("OS keyring", "keyring"), other: ("credentials file", "file")}
    for name, (label, code) in expected.items():
        shown = nx.run("env", "show", "--env", name, env=env)
        status = nx.run("token", "status", "--env", name, env=env)
        shown_json = nx.run("env", "show", "--env", name, "--json", env=env)
        status_json = nx.run("token", "status", "--env", name, "--json", env=env)
        for result in (shown, status, shown_json, status_json):
            assert result.returncode == 0, describe(result)
            assert KEY not in result.stdout + result.stderr
            assert OTHER_KEY not in result.stdout + result.stderr
        assert any(
            line.startswith("Service key:") and label in line for line in shown.stdout.splitlines()
        ), shown.stdout
        assert f"service key: {label}" in status.stdout
        assert json.loads(shown_json.stdout)["service_key_location"] == code
        assert json.loads(status_json.stdout)["service_key_location"] == code
    assert "credentials file (plain text)" in nx.run("env", "show", "--env", other).stdout


# Choosing where: NEXLA_KEY_STORAGE ---------------------------------------------------------


@pytest.mark.parametrize("value", ["vault", "Keyring", "none", "file,keyring"])
def test_any_other_storage_value_is_a_usage_error_before_anything_happens(nx, value):
    # In-process: refused before any keyring is looked for.
    result = from_key(nx, KEY, "--save-key", env=nx.env_with(NEXLA_KEY_STORAGE=value))
    assert_error(result, 2, "NEXLA_KEY_STORAGE")
    assert nx.server.count() == 0
    assert config_bytes(nx) == {}
