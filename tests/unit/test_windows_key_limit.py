"""Which keyring backends cannot hold every service key (docs/keyring.md): Windows
Credential Manager (keyring's WinVaultKeyring) keeps at most 1280 characters, also when
keyring chains it behind another backend. The command's refusal is in
tests/app/test_windows_key_limit.py."""

from __future__ import annotations

import pytest

from nexla_cli.storage.keys import longest_key

CREDENTIAL_MANAGER = (1280, "Windows Credential Manager")


@pytest.mark.parametrize(
    "classes, expected",
    [
        (["WinVaultKeyring"], CREDENTIAL_MANAGER),
        (["ChainerBackend", "PlaintextKeyring", "WinVaultKeyring"], CREDENTIAL_MANAGER),
        (["Keyring"], None),  # macOS Keychain's class, in keyring.backends.macOS
        (["KWalletKeyring"], None),
        ([], None),
    ],
)
def test_the_longest_key_a_backend_holds(classes, expected):
    assert longest_key(classes) == expected
