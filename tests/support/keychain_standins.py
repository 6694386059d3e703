"""Keyring backends that stand in for the macOS Keychain where Linux cannot show it.

keyring's macOS backend (keyring/backends/macOS) turns the Security framework's
errSecUserCanceled (-128: Deny or Cancel in the Keychain's access dialog) into its
`api.KeychainDenied`, which it raises as `KeyringLocked` from get_password and set_password,
and as `PasswordDeleteError` from delete_password. A dialog nobody has answered yet leaves
the call waiting. These classes do the same, with an exception of the same name (the real
one cannot be imported off macOS). Name one in PYTHON_KEYRING_BACKEND.
"""

from __future__ import annotations

import threading

from keyring.backend import KeyringBackend  # noqa: TID253 (tests are exempt from the start-up rule)
from keyring.errors import KeyringLocked, PasswordDeleteError  # noqa: TID253 (as above)


class KeychainDenied(Exception):
    """As keyring.backends.macOS.api.KeychainDenied: raised with (status, message)."""


def _denied() -> KeychainDenied:
    return KeychainDenied(-128, "Keychain Access Denied")


class DeniedInTheDialog(KeyringBackend):
    """The user chose Deny in the Keychain's access dialog, on every call."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        error = _denied()
        raise KeyringLocked(f"Can't get password from keychain: {error}") from error

    def set_password(self, service: str, username: str, password: str) -> None:
        error = _denied()
        raise KeyringLocked(f"Can't store password on keychain: {error}") from error

    def delete_password(self, service: str, username: str) -> None:
        error = _denied()
        raise PasswordDeleteError(f"Can't delete password in keychain: {error}") from error


# Set by no one: a dialog on screen that is never answered within a test.
_NEVER = threading.Event()


class DialogOnScreen(KeyringBackend):
    """The Keychain's access dialog is on screen and nobody answers it (macOS asks again
    after every upgrade of Python): every call waits."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        _NEVER.wait(30)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        _NEVER.wait(30)

    def delete_password(self, service: str, username: str) -> None:
        _NEVER.wait(30)
