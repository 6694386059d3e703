"""A keyring backend standing in for Windows Credential Manager, for in-process tests
(docs/portability.md): named as keyring's own (`WinVaultKeyring`, which nexla recognises by
that name) and refusing, as CredWrite does, a key longer than 1280 characters (2560 bytes
of UTF-16) with ERROR_INVALID_PARAMETER (87). Items live in this process's memory.

Select it with PYTHON_KEYRING_BACKEND=tests.support.windows_keyring.WinVaultKeyring.
"""

from __future__ import annotations

BACKEND = "tests.support.windows_keyring.WinVaultKeyring"
# CRED_MAX_CREDENTIAL_BLOB_SIZE is 5 * 512 bytes; keyring writes UTF-16.
LONGEST_KEY = 2560 // 2


class WinVaultKeyring:
    """What keyring asks of a backend it loads by name (a priority; get, set, delete);
    not a KeyringBackend subclass, so that no test module loads keyring at import."""

    priority = 1
    name = "Windows WinVaultKeyring"
    items: dict[tuple[str, str], str] = {}
    writes: list[tuple[str, str]] = []

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.writes.append((service, username))
        if len(password.encode("utf-16-le")) > 2560:
            raise OSError(87, "CredWrite: The parameter is incorrect")
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)

    @classmethod
    def reset(cls) -> None:
        cls.items.clear()
        cls.writes.clear()
