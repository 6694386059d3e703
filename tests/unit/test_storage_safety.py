"""The store's own rules for odd files (docs/storage.md), called directly: a FIFO is never
read, every file the store writes is 0600, odd values in the file are reported rather than
crashed on, any bytes end in a store or the documented error, and which directory modes
count as shared. What commands do with such files is in tests/app/test_storage_safety.py.
"""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.core.errors import ConfigError, NexlaError
from nexla_cli.storage import store as store_module
from nexla_cli.storage.store import CorruptStore, CredentialStore, read_store
from tests.support.signing_in import session_record
from tests.support.stores import mode, write_store

# Generous: a hang is what is being ruled out, not slowness on a loaded machine.
PROMPTLY = 30


# ---- the store's rules, in-process ---------------------------------------------------------


def test_read_store_never_blocks_on_a_fifo(tmp_path):
    """A watchdog instead of a hang: the reader runs in a thread that must finish promptly."""
    directory = tmp_path / "c"
    directory.mkdir(mode=0o700)
    path = directory / "credentials.json"
    os.mkfifo(path, 0o600)
    outcome: list = []

    def read() -> None:
        try:
            outcome.append(read_store(path))
        except Exception as exc:  # recorded and checked below
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(PROMPTLY)
    if reader.is_alive():
        with open(path, "wb"):  # set the blocked reader free before failing
            pass
        pytest.fail("read_store blocked on a FIFO")
    assert isinstance(outcome[0], CorruptStore) and "FIFO" in str(outcome[0])


def test_store_set_aside_and_lock_files_are_0600(tmp_path):
    directory = tmp_path / "c"
    directory.mkdir(mode=0o700)
    path = directory / "credentials.json"
    path.write_text("{ nope")
    path.chmod(0o644)
    store = CredentialStore(path)
    with store.transaction(recover_corrupt=True) as data:
        data.current = None
    modes = {p.name: mode(p) for p in directory.iterdir()}
    (kept,) = [name for name in modes if ".corrupt-" in name]
    assert modes == {"credentials.json": 0o600, "credentials.json.lock": 0o600, kept: 0o600}


@pytest.mark.parametrize(
    "raw, expected",
    [
        (b'{"version": 2, "current": [], "environments": {}}', CorruptStore),
        (b'{"version": 2, "current": {"a": 1}, "environments": {}}', CorruptStore),
        (b'{"version": 1e400, "environments": {}}', CorruptStore),
        (b'{"version": 0, "current": null, "environments": {}}', CorruptStore),
        (b'{"version": true, "current": null, "environments": {}}', CorruptStore),
        (b'{"version": 4, "environments": {}}', ConfigError),
    ],
)
def test_odd_values_in_the_file_are_reported_not_crashed_on(tmp_path, raw, expected):
    directory = tmp_path / "c"
    directory.mkdir(mode=0o700)
    (directory / "credentials.json").write_bytes(raw)
    with pytest.raises(expected):
        read_store(directory / "credentials.json")


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    raw=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
            lambda children: (
                st.lists(children, max_size=3)
                | st.dictionaries(
                    st.sampled_from(
                        ["version", "current", "environments", "api_url", "session", "x"]
                        + ["saved_key", "in", "key", "access_token", "expires_at"]
                    )
                    | st.text(max_size=4),
                    children,
                    max_size=4,
                )
            ),
            max_leaves=30,
        ).map(lambda value: json.dumps(value).encode()),
        st.integers(min_value=1, max_value=3000).map(lambda n: b"[" * n + b"]" * n),
    )
)
def test_any_bytes_end_in_a_store_or_the_documented_error(tmp_path, raw):
    """Property: read_store returns a store of the documented shape or raises the corrupt-
    file error (or "written by a newer nexla"), never any other exception."""
    directory = tmp_path / "prop"
    directory.mkdir(mode=0o700, exist_ok=True)
    path = directory / "credentials.json"
    # A new file each time: rewriting one truncated to zero makes the file system flush it
    # to disk on close (ext4's auto_da_alloc), a wait of about a millisecond an example.
    path.unlink(missing_ok=True)
    path.write_bytes(raw)
    try:
        data = read_store(path)
    except NexlaError as exc:
        assert isinstance(exc, ConfigError)
        return
    assert isinstance(data.environments, dict)
    assert data.current is None or data.current in data.environments
    json.dumps(data.to_json(), sort_keys=True)  # what a transaction does with it next


def test_shared_mode_rule():
    shared = store_module._shared
    assert shared(stat.S_IFDIR | 0o1777) and shared(stat.S_IFDIR | 0o2770)
    assert shared(stat.S_IFDIR | 0o0777) and shared(stat.S_IFDIR | 0o0702)
    assert not shared(stat.S_IFDIR | 0o0700) and not shared(stat.S_IFDIR | 0o0775)


def test_session_record_helper_is_what_the_store_accepts(tmp_path):
    # Guards the seeding helpers these tests rely on against drifting from the format.
    write_store(
        tmp_path / "c",
        {
            "a.example": {
                "api_url": "https://a.example/nexla-api",
                "session": session_record("tok-a"),
            }
        },
        "a.example",
    )
    assert read_store(tmp_path / "c" / "credentials.json").current == "a.example"
