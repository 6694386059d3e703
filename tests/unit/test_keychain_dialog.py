"""The macOS Keychain's access dialog (docs/keyring.md, "On macOS: the Keychain's dialog"),
simulated where Linux cannot show it: a Keychain call that waits on an unanswered dialog
asks the user to answer it (Always Allow) and run again; a Deny is said to be one, not a
locked keyring, and a Deny on delete is not taken for an item already gone. Other systems
keep their words. The stand-in backends behave as keyring's macOS backend does
(tests/support/keychain_standins.py); keys.py is called directly."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexla_cli.storage import keys

STANDINS = "tests.support.keychain_standins."
STORE = Path("/nowhere/nexla/credentials.json")
NAME = "dataops.nexla.io"


def _keyring(backend: str, platform: str) -> keys.Keyring:
    environ = {"PYTHON_KEYRING_BACKEND": STANDINS + backend}
    return keys.Keyring(environ, timeout=0.2, platform=platform)


class _InKeyring:
    def __init__(self) -> None:
        item = keys.KeyringItem(keys.SERVICE_NAME, f"{NAME} in {STORE.parent}")
        self.saved_key: keys.SavedKey | None = keys.SavedKey(item=item)


def _save_error(backend: str, platform: str) -> keys.KeyStorageError:
    with pytest.raises(keys.KeyStorageError) as caught:
        keys.plan_save(_keyring(backend, platform), NAME, STORE)
    return caught.value


def _read_error(backend: str, platform: str) -> keys.KeyStorageError:
    with pytest.raises(keys.KeyStorageError) as caught:
        keys.read(_keyring(backend, platform), _InKeyring(), NAME)
    return caught.value


@pytest.mark.parametrize("error", [_save_error, _read_error], ids=["save", "read"])
def test_on_macos_an_unanswered_keychain_asks_to_answer_its_dialog(error):
    raised = error("DialogOnScreen", "darwin")
    assert "did not answer within 0.2 seconds" in raised.message
    assert "Keychain dialog" in raised.message
    assert raised.hint.startswith("answer the Keychain dialog (Always Allow) and run again")
    assert "NEXLA_KEY_STORAGE=file" in raised.hint
    assert "exit" not in raised.message and raised.exit_code == 3


@pytest.mark.parametrize("error", [_save_error, _read_error], ids=["save", "read"])
def test_on_macos_a_deny_is_not_called_locked(error):
    raised = error("DeniedInTheDialog", "darwin")
    assert "access was denied in the Keychain dialog" in raised.message
    assert "locked" not in raised.message
    assert raised.hint.startswith("run again and choose Always Allow in the Keychain dialog")
    assert "NEXLA_KEY_STORAGE=file" in raised.hint
    assert raised.exit_code == 3


def test_on_macos_a_deny_on_delete_is_a_warning_not_an_item_already_gone():
    warning = keys.forget(
        _keyring("DeniedInTheDialog", "darwin"), keys.keyring_item(_InKeyring()), NAME, STORE
    )
    assert "access was denied in the Keychain dialog" in warning
    assert "forgotten locally" in warning


@pytest.mark.parametrize("platform", ["linux", "win32"])
def test_elsewhere_the_same_failures_keep_their_words(platform):
    unanswered = _save_error("DialogOnScreen", platform)
    assert "did not answer within 0.2 seconds" in unanswered.message
    assert "Keychain" not in unanswered.message + unanswered.hint
    assert unanswered.hint.startswith("unlock the keyring (or make it answer)")
    locked = _save_error("DeniedInTheDialog", platform)
    assert "it is locked" in locked.message
    assert "Keychain" not in locked.hint
