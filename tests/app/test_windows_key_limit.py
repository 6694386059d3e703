"""A service key longer than Windows Credential Manager holds is refused before anything is
sent (docs/keyring.md), in-process with a backend standing in for keyring's Windows one
(tests/support/windows_keyring.py: its class name, and CredWrite's 1280-character limit).
Nothing here has run on Windows.
"""

from __future__ import annotations

import pytest

from tests.support.outcomes import assert_error, describe
from tests.support.signing_in import from_key
from tests.support.windows_keyring import BACKEND, LONGEST_KEY, WinVaultKeyring


@pytest.fixture
def credential_manager(nx):
    WinVaultKeyring.reset()
    yield nx.env_with(PYTHON_KEYRING_BACKEND=BACKEND)
    WinVaultKeyring.reset()


def test_a_key_too_long_for_credential_manager_is_refused_before_anything_is_sent(
    nx, credential_manager
):
    key = "k" * (LONGEST_KEY + 1)
    result = from_key(nx, key, "--save-key", env=credential_manager)
    assert_error(result, 3, "1280")
    assert "NEXLA_KEY_STORAGE=file" in result.stderr
    assert nx.server.count() == 0  # no session minted for a key that cannot be kept
    assert WinVaultKeyring.writes == [] and WinVaultKeyring.items == {}
    assert not (nx.config_dir / "credentials.json").exists()
    assert key not in result.stdout + result.stderr


def test_the_way_out_keeps_it_in_the_file(nx, credential_manager):
    key = "k" * (LONGEST_KEY + 1)
    storage_file = dict(credential_manager, NEXLA_KEY_STORAGE="file")
    result = from_key(nx, key, "--save-key", env=storage_file)
    assert result.returncode == 0, describe(result)
    assert WinVaultKeyring.items == {}


def test_a_key_of_the_longest_length_goes_into_credential_manager(nx, credential_manager):
    key = "k" * LONGEST_KEY
    result = from_key(nx, key, "--save-key", env=credential_manager)
    assert result.returncode == 0, describe(result)
    assert list(WinVaultKeyring.items.values()) == [key]
