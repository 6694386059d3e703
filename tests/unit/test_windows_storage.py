"""The store on Windows, simulated on Linux (docs/portability.md): NTFS reports mode 0666 for
every file and 0777 for every directory, and chmod only sets the read-only flag, so nexla
checks no POSIX modes or owners there and changes none; a config directory it creates is
made owner-only with icacls, one that exists is left alone.

The code asks `sys.platform` when it runs; these tests set it to "win32" and give the files
the modes NTFS reports. What icacls would do is not simulated: only that it is called, how,
in which order, bounded, and what a failure says. Nothing here has run on Windows.
"""

from __future__ import annotations

import subprocess

import pytest

from nexla_cli.core.runtime import Notices
from nexla_cli.storage import store as store_module
from nexla_cli.storage.store import (
    CredentialStore,
    ensure_config_dir,
    permission_warning,
    windows_account,
)
from tests.support.other_systems import simulate
from tests.support.stores import mode

ACCOUNT = "CORP\\ann"


@pytest.fixture
def windows(monkeypatch):
    simulate(monkeypatch, "win32")


class _Icacls:
    """subprocess.run standing in for icacls: records each call, answers `codes` in turn."""

    def __init__(self, *codes: int, raises: BaseException | None = None) -> None:
        self.calls: list[tuple[list[str], float | None]] = []
        self.codes = list(codes)
        self.raises = raises

    def __call__(self, command, **kwargs):
        self.calls.append((list(command), kwargs.get("timeout")))
        if self.raises is not None:
            raise self.raises
        return subprocess.CompletedProcess(command, self.codes.pop(0) if self.codes else 0)


@pytest.fixture
def icacls(monkeypatch):
    def install(*codes: int, raises: BaseException | None = None) -> _Icacls:
        fake = _Icacls(*codes, raises=raises)
        monkeypatch.setattr(subprocess, "run", fake)
        return fake

    return install


def test_a_file_reported_0666_draws_no_warning_on_windows(tmp_path, windows):
    path = tmp_path / "credentials.json"
    path.write_text("{}")
    path.chmod(0o666)  # what os.stat reports for every file on NTFS
    assert permission_warning(path) is None


def test_a_file_open_to_others_still_draws_the_warning_elsewhere(tmp_path):
    path = tmp_path / "credentials.json"
    path.write_text("{}")
    path.chmod(0o666)
    for platform in ("linux", "darwin"):
        assert "mode 0666" in (permission_warning(path, platform) or "")


@pytest.mark.parametrize("reported", [0o777, 0o755])
def test_an_existing_directory_is_neither_refused_nor_chmod_ed_nor_warned_about(
    tmp_path, windows, icacls, reported
):
    # 0777 is what NTFS reports for every directory: on POSIX that is a shared one (refused).
    directory = tmp_path / "nexla"
    directory.mkdir()
    directory.chmod(reported)
    calls = icacls()
    assert ensure_config_dir(directory, ACCOUNT) is None
    assert mode(directory) == reported
    assert calls.calls == []  # its ACL is the user's business once it exists


def test_a_directory_nexla_creates_is_made_owner_only_grant_first(tmp_path, windows, icacls):
    directory = tmp_path / "AppData" / "nexla"
    calls = icacls(0, 0)
    assert ensure_config_dir(directory, ACCOUNT) is None
    assert directory.is_dir()
    assert [command for command, _ in calls.calls] == [
        ["icacls", str(directory), "/grant:r", "CORP\\ann:(OI)(CI)F"],
        ["icacls", str(directory), "/inheritance:r"],
    ]
    assert all(timeout == store_module.ACL_TIMEOUT_SECONDS for _, timeout in calls.calls)


def test_a_grant_icacls_refuses_leaves_inheritance_alone_and_says_so(tmp_path, windows, icacls):
    # 1332: "No mapping between account names and security IDs was done".
    directory = tmp_path / "nexla"
    calls = icacls(1332)
    notice = ensure_config_dir(directory, ACCOUNT)
    assert len(calls.calls) == 1  # never /inheritance:r without the grant: no lock-out
    assert notice is not None and str(directory) in notice and "1332" in notice


@pytest.mark.parametrize(
    "raises",
    [FileNotFoundError(2, "No such file or directory"), subprocess.TimeoutExpired("icacls", 10)],
)
def test_icacls_missing_or_hanging_is_a_notice_not_an_error(tmp_path, windows, icacls, raises):
    directory = tmp_path / "nexla"
    icacls(raises=raises)
    notice = ensure_config_dir(directory, ACCOUNT)
    assert directory.is_dir()
    assert notice is not None and "could not make" in notice


def test_a_transaction_on_windows_warns_of_nothing_and_chmods_nothing(tmp_path, windows, icacls):
    directory = tmp_path / "nexla"
    directory.mkdir()
    directory.chmod(0o777)
    path = directory / "credentials.json"
    path.write_text('{"version": 2, "current": null, "environments": {}}\n')
    path.chmod(0o666)
    lock = directory / "credentials.json.lock"
    lock.write_text("")
    lock.chmod(0o666)
    notices = Notices()
    store = CredentialStore(path, notices=notices, account=ACCOUNT)
    store.load()
    with store.transaction() as data:
        data.extra["touched"] = True
    assert notices.said == []
    assert mode(directory) == 0o777 and mode(lock) == 0o666


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({"USERNAME": "ann", "USERDOMAIN": "CORP"}, "CORP\\ann"),
        ({"USERNAME": "ann"}, "ann"),
        ({"USERNAME": " ", "USERDOMAIN": "CORP"}, None),
        ({}, None),
    ],
)
def test_the_account_icacls_is_given(environ, expected):
    assert windows_account(environ) == expected


def test_no_account_means_no_icacls_and_a_notice(tmp_path, windows, icacls):
    calls = icacls()
    notice = ensure_config_dir(tmp_path / "nexla", None)
    assert calls.calls == [] and notice is not None and "USERNAME" in notice

