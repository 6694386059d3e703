"""The rename that stores a new file, on Windows, simulated on Linux (docs/portability.md):
another process holding credentials.json open (an antivirus scanner, the search indexer)
makes os.replace fail for a moment with PermissionError, winerror 32 (sharing violation) or
5 (access denied). It is tried again for about a second; on POSIX a PermissionError is final.

os.replace is replaced by one that raises as Windows does; the waits are recorded, not slept.
Nothing here has run on Windows.
"""

from __future__ import annotations

import os

import pytest

from nexla_cli.storage import store as store_module
from nexla_cli.storage.store import (
    REPLACE_WAITS,
    CredentialStore,
    StoreWriteError,
    is_sharing_violation,
    read_store,
    replace_file,
)
from tests.support.other_systems import simulate, windows_refusal

refusal = windows_refusal


class FlakyReplace:
    """os.replace refusing `times` times (math.inf: always), then doing the real rename."""

    def __init__(self, times: float, exc: Exception) -> None:
        self.times = times
        self.exc = exc
        self.calls = 0
        self.real = os.replace

    def __call__(self, source, target) -> None:
        self.calls += 1
        if self.calls <= self.times:
            raise self.exc
        self.real(source, target)


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(store_module.time, "sleep", slept.append)
    return slept


def flaky(monkeypatch, times: float, exc: Exception | None = None) -> FlakyReplace:
    fake = FlakyReplace(times, exc if exc is not None else refusal())
    monkeypatch.setattr(os, "replace", fake)
    return fake


@pytest.mark.parametrize(
    "exc, platform, expected",
    [
        (refusal(32), "win32", True),
        (refusal(5), "win32", True),
        (refusal(2), "win32", False),
        (refusal(None), "win32", False),
        (FileNotFoundError(2, "gone"), "win32", False),
        (refusal(32), "linux", False),
        (refusal(32), "darwin", False),
    ],
)
def test_which_refusals_are_passing_ones(exc, platform, expected):
    assert is_sharing_violation(exc, platform) is expected


def test_refused_twice_then_done(tmp_path, monkeypatch, waits):
    simulate(monkeypatch, "win32")
    source, target = tmp_path / "new", tmp_path / "credentials.json"
    source.write_text("new")
    fake = flaky(monkeypatch, 2)
    replace_file(source, target)
    assert fake.calls == 3 and target.read_text() == "new"
    assert waits == list(REPLACE_WAITS[:2])


def test_always_refused_gives_up_after_about_a_second(tmp_path, monkeypatch, waits):
    simulate(monkeypatch, "win32")
    source = tmp_path / "new"
    source.write_text("new")
    fake = flaky(monkeypatch, float("inf"))
    with pytest.raises(PermissionError):
        replace_file(source, tmp_path / "credentials.json")
    assert fake.calls == len(REPLACE_WAITS) + 1
    assert 0.5 <= sum(waits) <= 1.5


def test_on_posix_a_permission_error_is_final(tmp_path, monkeypatch, waits):
    source = tmp_path / "new"
    source.write_text("new")
    fake = flaky(monkeypatch, 1)
    with pytest.raises(PermissionError):
        replace_file(source, tmp_path / "credentials.json")
    assert fake.calls == 1 and waits == []


def _store(tmp_path) -> CredentialStore:
    directory = tmp_path / "nexla"
    directory.mkdir(mode=0o700)
    return CredentialStore(directory / "credentials.json")


def test_a_transaction_survives_a_scanner_holding_the_file(tmp_path, monkeypatch, waits):
    store = _store(tmp_path)
    simulate(monkeypatch, "win32")
    fake = flaky(monkeypatch, 2)
    with store.transaction() as data:
        data.extra["kept"] = "yes"
    assert fake.calls == 3
    assert read_store(store.path).extra == {"kept": "yes"}
    assert list(store.path.parent.glob(".credentials.*")) == []  # no temporary file left


def test_a_transaction_always_refused_is_the_could_not_write_error(tmp_path, monkeypatch, waits):
    store = _store(tmp_path)
    simulate(monkeypatch, "win32")
    flaky(monkeypatch, float("inf"))
    with pytest.raises(StoreWriteError, match="cannot write"):
        with store.transaction() as data:
            data.extra["kept"] = "yes"
    assert not store.path.exists()
    assert list(store.path.parent.glob(".credentials.*")) == []
