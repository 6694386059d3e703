"""Odd files and directories where the credentials live (docs/storage.md).

- The credentials file is read only when it is a regular file of at most 16 MiB: a FIFO, a
  device or a huge file is exit 3 at once (never a hang, never all memory), and commands
  that start over set it aside as they do a corrupt file. JSON nested thousands deep is a
  corrupt file like any other.
- No chmod, read or write follows a symlink: a credentials file or lock file that is a link
  is refused (exit 3) and left alone.
- A shared config directory (sticky, setgid, writable by others) is refused and never
  chmod-ed; one of ours that others may read is tightened to 0700 with a notice.

Commands run as real `nexla` processes where a hang or a crash would show only there; the
store's own rules are checked in-process.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from tests.support.outcomes import assert_error, describe
from tests.support.signing_in import seed
from tests.support.stores import edit_session, make_fifo_store, write_store
from tests.support.stores import read_store as read_store_json

CONFIG = 3
# Generous: a hang is what is being ruled out, not slowness on a loaded machine.
PROMPTLY = 30


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def entries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def run(nx, *args, input: str | None = None, env=None) -> subprocess.CompletedProcess:
    return nx.run(*args, input=input, env=env, timeout=PROMPTLY)


def configure(nx, env=None) -> subprocess.CompletedProcess:
    return run(
        nx,
        "env",
        "configure",
        nx.server.host,
        "--with-token",
        input=nx.server.issue_token(),
        env=env,
    )


# ---- a credentials file that is not a regular file ------------------------------------------

READERS = [
    ("token", "print"),
    ("token", "status"),
    ("token", "refresh"),
    ("env", "list"),
    ("env", "show"),
]


@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_a_fifo_is_refused_at_once_by_reading_commands(nx, args):
    path = make_fifo_store(nx)
    result = run(nx, *args, env=nx.env_with(NEXLA_ENV=nx.server.host))
    assert_error(result, CONFIG, str(path))
    assert "FIFO" in result.stderr
    assert stat.S_ISFIFO(os.lstat(path).st_mode)  # left where it was
    assert nx.server.count() == 0


def test_env_configure_sets_a_fifo_aside_and_starts_afresh(nx):
    path = make_fifo_store(nx)
    result = configure(nx)
    assert result.returncode == 0, describe(result)
    (kept,) = nx.config_dir.glob("credentials.json.corrupt-*")
    assert str(kept) in result.stderr and "FIFO" in result.stderr
    assert stat.S_ISFIFO(os.lstat(kept).st_mode) and mode(kept) == 0o600
    assert stat.S_ISREG(os.lstat(path).st_mode)
    assert nx.server.host in json.loads(path.read_text())["environments"]


def test_a_link_to_dev_zero_is_refused_without_reading_it(nx):
    nx.config_dir.mkdir(mode=0o700)
    path = nx.config_dir / "credentials.json"
    path.symlink_to("/dev/zero")
    for args in (("token", "print"), ("env", "list")):
        assert_error(run(nx, *args), CONFIG, "symbolic link")
    # Starting over does not set a link aside either: it is not nexla's to move.
    result = configure(nx)
    assert_error(result, CONFIG, "symbolic link")
    assert entries(nx.config_dir) == ["credentials.json"]
    assert os.readlink(path) == "/dev/zero"


def test_a_device_node_is_refused(nx):
    nx.config_dir.mkdir(mode=0o700)
    path = nx.config_dir / "credentials.json"
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # what /dev/zero is
    except (PermissionError, AttributeError):
        pytest.skip("cannot create a device node here")
    result = run(nx, "token", "print")
    assert_error(result, CONFIG, str(path))


def test_an_oversized_file_is_refused_and_set_aside_by_configure(nx):
    nx.config_dir.mkdir(mode=0o700)
    path = nx.config_dir / "credentials.json"
    with open(path, "wb") as handle:  # sparse: 16 MiB and one byte, all of it unread
        handle.truncate(16 * 1024 * 1024 + 1)
    path.chmod(0o600)
    assert_error(run(nx, "env", "list"), CONFIG, "16 MiB")
    result = configure(nx)
    assert result.returncode == 0, describe(result)
    (kept,) = nx.config_dir.glob("credentials.json.corrupt-*")
    assert kept.stat().st_size == 16 * 1024 * 1024 + 1


DEEP = b"[" * 5000 + b"]" * 5000
DEEP_INSIDE = (
    b'{"version": 2, "current": null, "environments": {"a.example": '
    b'{"api_url": "https://a.example/nexla-api", "extra": ' + b"[" * 200 + b"]" * 200 + b"}}}"
)


@pytest.mark.parametrize("content", [DEEP, DEEP_INSIDE], ids=["5000 deep", "200 deep inside"])
def test_deeply_nested_json_is_a_corrupt_file_that_start_over_commands_set_aside(nx, content):
    nx.config_dir.mkdir(mode=0o700)
    path = nx.config_dir / "credentials.json"
    path.write_bytes(content)
    path.chmod(0o600)
    for args in (("token", "print"), ("env", "list"), ("token", "status")):
        assert_error(run(nx, *args), CONFIG, str(path))
    result = configure(nx)
    assert result.returncode == 0, describe(result)
    (kept,) = nx.config_dir.glob("credentials.json.corrupt-*")
    assert kept.read_bytes() == content and str(kept) in result.stderr
    assert run(nx, "token", "print").returncode == 0


# ---- symlinks -----------------------------------------------------------------------------


def test_a_credentials_link_out_of_the_directory_is_refused_and_its_target_untouched(nx):
    outside = nx.tmp_path / "elsewhere.json"
    write_store(nx.tmp_path / "other", {}, None)
    outside.write_bytes((nx.tmp_path / "other" / "credentials.json").read_bytes())
    outside.chmod(0o644)
    before = outside.read_bytes()
    nx.config_dir.mkdir(mode=0o700)
    link = nx.config_dir / "credentials.json"
    link.symlink_to(outside)

    for args in (("env", "configure", nx.server.host, "--with-token"), ("env", "logout", "--all")):
        result = run(nx, *args, input=nx.server.issue_token())
        assert_error(result, CONFIG, "symbolic link")
    assert mode(outside) == 0o644 and outside.read_bytes() == before
    assert os.readlink(link) == str(outside)
    assert entries(nx.config_dir) == ["credentials.json"]


@pytest.mark.parametrize("kind", ["link", "directory"])
def test_a_lock_file_that_is_a_link_or_a_directory_is_refused(nx, kind):
    seed(nx)
    before = (nx.config_dir / "credentials.json").read_bytes()
    lock = nx.config_dir / "credentials.json.lock"
    outside = nx.tmp_path / "precious.txt"
    outside.write_text("keep me\n")
    outside.chmod(0o644)
    if kind == "link":
        lock.symlink_to(outside)
    else:
        lock.mkdir()
    result = configure(nx)
    assert_error(result, CONFIG, str(lock))
    # filelock opens its file with O_TRUNC: nothing outside may have been emptied or chmod-ed.
    assert outside.read_text() == "keep me\n" and mode(outside) == 0o644
    assert (nx.config_dir / "credentials.json").read_bytes() == before
    assert os.path.islink(lock) if kind == "link" else lock.is_dir()


# ---- the config directory ----------------------------------------------------------------


@pytest.mark.parametrize("dir_mode", [0o1777, 0o2775, 0o0777, 0o0703], ids=oct)
def test_a_shared_config_dir_is_refused_and_never_chmodded(nx, dir_mode):
    shared = nx.tmp_path / "shared"
    shared.mkdir()
    shared.chmod(dir_mode)
    env = nx.env_with(NEXLA_CONFIG_DIR=str(shared))
    for args, stdin in (
        (("env", "configure", nx.server.host, "--with-token"), nx.server.issue_token()),
        (("env", "list"), None),
        (("token", "print"), None),
    ):
        result = run(nx, *args, input=stdin, env=env)
        assert_error(result, CONFIG, "shared")
        assert mode(shared) == dir_mode
    assert entries(shared) == []
    assert nx.server.count() == 0


@pytest.mark.parametrize("dir_mode", [0o755, 0o750, 0o775], ids=oct)
def test_an_own_config_dir_open_to_others_is_tightened_with_a_notice(nx, dir_mode):
    nx.config_dir.mkdir()
    nx.config_dir.chmod(dir_mode)
    result = configure(nx)
    assert result.returncode == 0, describe(result)
    assert mode(nx.config_dir) == 0o700
    assert any(
        str(nx.config_dir) in line and "0700" in line for line in result.stderr.splitlines()
    ), describe(result)


def test_a_config_dir_created_under_a_setgid_parent_is_ours_not_shared(nx):
    parent = nx.tmp_path / "group-share"
    parent.mkdir()
    parent.chmod(0o2755)
    env = nx.env_with(NEXLA_CONFIG_DIR=str(parent / "nexla"))
    result = configure(nx, env=env)
    assert result.returncode == 0, describe(result)
    assert mode(parent / "nexla") == 0o700


# ---- the store's rules, in-process ---------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"expires_at": 10**15},
        {"obtained_at": -(10**15)},
        {"expires_at": 10**30},
        {"access_token": "abc\n\x1b]0;owned\x07def"},
    ],
    ids=["far-future", "before-1970", "overflow", "control-characters"],
)
@pytest.mark.parametrize(
    "args",
    [
        ("token", "print"),
        ("token", "status"),
        ("env", "list"),
        ("env", "show"),
        ("token", "export", "--format", "json"),
    ],
    ids=" ".join,
)
def test_a_damaged_session_is_a_corrupt_file_not_a_crash(nx, changes, args):
    """docs/storage.md: a session whose times no date can hold, or whose token could not be
    sent or printed as one line, is a corrupt file (exit 3 naming it), never exit 1 or a
    token printed with a newline in it."""
    seed(nx)
    edit_session(nx, **changes)
    result = nx.run(*args)
    assert_error(result, 3, "credentials.json")
    assert result.stdout == ""


@pytest.mark.parametrize(
    "changes",
    [{"expires_at": 10**30}, {"access_token": "abc\ndef"}, {"access_token": None}],
    ids=["overflow", "control-characters", "no-token"],
)
@pytest.mark.parametrize("command", ["env logout", "env logout --all", "env remove"])
def test_a_damaged_session_is_forgotten_by_logout_and_remove_with_nothing_sent(
    nx, changes, command
):
    """docs/storage.md: the commands that forget a session forget a damaged one too. Its
    token cannot be sent, so nothing is; the rest of the file is kept as it was."""
    other = "other.example"
    seed(nx)
    edit_session(nx, **changes)
    data = read_store_json(nx.config_dir)
    data["environments"][other] = {"api_url": f"https://{other}/nexla-api"}
    write_store(nx.config_dir, data["environments"], data["current"])
    args = command.split() + ([nx.server.host] if command == "env remove" else [])

    result = nx.ok(*args)
    assert nx.server.count() == 0
    after = read_store_json(nx.config_dir)["environments"]
    assert after[other] == {"api_url": f"https://{other}/nexla-api"}
    if command == "env remove":
        assert nx.server.host not in after
    else:
        assert after[nx.server.host] == {"api_url": nx.server.api_url}
        # `--all` names every environment without a session on one line.
        (said,) = [line for line in result.stderr.splitlines() if "Not signed in to" in line]
        assert nx.server.host in said
