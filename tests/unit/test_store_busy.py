"""The unit tier of tests/app/test_store_busy.py, whose docstring says what is promised: the pure
functions behind its promises, called directly: no server, no run of the app."""

from __future__ import annotations

import filelock  # noqa: TID253 (tests are exempt from the start-up rule)
import pytest

from nexla_cli.core.errors import ExitCode, NetworkError, StoreBusy
from nexla_cli.storage.store import CredentialStore


def test_a_held_lock_is_store_busy_not_a_network_error(tmp_path):
    directory = tmp_path / "c"
    directory.mkdir(mode=0o700)
    store = CredentialStore(directory / "credentials.json", lock_timeout=0)
    with filelock.FileLock(str(store.lock_path)):
        with pytest.raises(StoreBusy) as raised:
            with store.transaction() as data:
                data.current = None
    assert not isinstance(raised.value, NetworkError)
    assert raised.value.exit_code == ExitCode.NETWORK == 5
    assert str(store.lock_path) in raised.value.message
    assert not (directory / "credentials.json").exists()
