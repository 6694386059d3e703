"""Storage faults: a hostile umask, a corrupt file, a file others can read.

README.md and docs/file-format.md: the config dir is 0700 and every file in it 0600 from the
moment it exists, whatever the umask (the lock and any file moved aside too). A file that
cannot be parsed is never overwritten: reading commands exit 3 naming it, commands that start
over or forget move it aside (kept, named). A credentials file readable by group or others
draws a warning.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.outcomes import assert_error, assert_presentable, describe, warnings_in
from tests.support.signing_in import seed
from tests.support.stores import mode, read_store, store_bytes, store_path, write_raw_store

CONFIG = 3


# ---- permissions ---------------------------------------------------------------------------


def test_existing_open_config_dir_is_tightened_to_0700(nx):
    nx.config_dir.mkdir(mode=0o755)
    nx.config_dir.chmod(0o755)
    nx.sign_in_with_cli()  # what is tested is what signing in does to the directory
    assert mode(nx.config_dir) == 0o700


@pytest.mark.parametrize("file_mode", [0o644, 0o640, 0o604])
def test_credentials_readable_by_others_warn_but_work(nx, file_mode):
    token = seed(nx)
    store_path(nx.config_dir).chmod(file_mode)
    result = nx.ok("token", "print")
    assert result.stdout == token + "\n"
    (warning,) = warnings_in(result)
    assert str(store_path(nx.config_dir)) in warning and f"{file_mode:04o}" in warning
    assert token not in result.stderr
    # Reading commands do not change the mode behind the user's back.
    assert mode(store_path(nx.config_dir)) == file_mode


# ---- a corrupt file ------------------------------------------------------------------------

CORRUPTIONS = {
    "truncated": b'{"version": 2, "current": "a.example", "environments": {"a.exa',
    "empty": b"",
    "not-utf8": b"\xff\xfe\x00garbage\x80",
    "wrong-shape": b'["version", 1]\n',
    "env-without-url": b'{"version": 2, "current": null, "environments": {"a.example": {}}}',
    "bad-session": (
        b'{"version": 2, "current": "a.example", "environments": {"a.example": '
        b'{"api_url": "https://a.example/nexla-api", "session": {"access_token": 7}}}}'
    ),
}

READERS = [
    ("token", "print"),
    ("token", "refresh"),
    ("token", "status"),
    ("env", "use", "a.example"),
    ("env", "show"),
    ("env", "show", "--check"),
    ("env", "list"),
]


@pytest.mark.parametrize("args", READERS, ids=" ".join)
@pytest.mark.parametrize("kind", ["truncated", "empty"])
def test_reading_commands_refuse_a_corrupt_file(nx, args, kind):
    path = write_raw_store(nx, CORRUPTIONS[kind])
    result = nx.run(*args)
    assert_error(result, CONFIG, str(path))
    assert path.read_bytes() == CORRUPTIONS[kind]
    assert sorted(p.name for p in nx.config_dir.iterdir()) == ["credentials.json"]
    assert nx.server.count() == 0


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_every_kind_of_corruption_is_refused_by_token_print(nx, kind):
    path = write_raw_store(nx, CORRUPTIONS[kind])
    result = nx.run("token", "print", env=nx.env_with(NEXLA_ENV="a.example"))
    assert_error(result, CONFIG, str(path))
    assert path.read_bytes() == CORRUPTIONS[kind]


def _assert_kept_aside(nx, result, original: bytes) -> Path:
    (kept,) = nx.config_dir.glob("credentials.json.corrupt-*")
    assert str(kept) in result.stderr, describe(result)
    assert kept.read_bytes() == original
    assert mode(kept) == 0o600
    return kept


@pytest.mark.parametrize(
    "command",
    ["env configure", "env login --env", "token from-key --env"],
)
def test_commands_that_start_over_move_a_corrupt_file_aside(nx, command):
    original = CORRUPTIONS["truncated"]
    write_raw_store(nx, original)
    host = nx.server.host
    key = "svc-start-over-key"
    nx.server.add_service_key(key)
    args = {
        "env configure": ["env", "configure", host, "--with-token"],
        "env login --env": ["env", "login", "--env", host, "--with-token"],
        "token from-key --env": ["token", "from-key", "--env", host],
    }[command]
    variables = {"NEXLA_SERVICE_KEY": key, "NEXLA_API_URL": nx.server.api_url}
    result = nx.ok(*args, input=nx.server.issue_token(), env=nx.env_with(**variables))
    assert_presentable(result)
    _assert_kept_aside(nx, result, original)
    data = read_store(nx.config_dir)
    assert nx.server.is_valid(data["environments"][host]["session"]["access_token"])


def test_env_login_without_a_name_sets_a_corrupt_file_aside_and_asks_for_one(nx):
    """With the file unreadable there is no current environment to sign in to."""
    original = CORRUPTIONS["truncated"]
    write_raw_store(nx, original)
    result = nx.fails(CONFIG, "env", "login", "--with-token", input=nx.server.issue_token())
    assert "--env" in result.stderr
    _assert_kept_aside(nx, result, original)
    assert nx.server.count() == 0


@pytest.mark.parametrize(
    "command",
    ["env configure", "token from-key --env"],
)
def test_a_failed_sign_in_still_keeps_the_corrupt_file_aside(nx, command):
    original = CORRUPTIONS["truncated"]
    write_raw_store(nx, original)
    args = {
        "env configure": ["env", "configure", nx.server.host, "--with-token"],
        "token from-key --env": ["token", "from-key", "--env", nx.server.host],
    }[command]
    variables = {"NEXLA_SERVICE_KEY": "svc-not-known"}
    result = nx.fails(4, *args, input="tok-not-known", env=nx.env_with(**variables))
    # Set aside first, as the contract says, and kept byte for byte.
    _assert_kept_aside(nx, result, original)
    assert read_store(nx.config_dir)["environments"] == {}


@pytest.mark.parametrize(
    "args, code",
    [
        (("env", "logout", "--all"), 0),
        (("env", "logout"), CONFIG),  # nothing left to say which environment
        (("env", "remove", "a.example"), CONFIG),  # no longer known once set aside
    ],
    ids=["logout --all", "logout", "remove"],
)
def test_commands_that_forget_move_a_corrupt_file_aside(nx, args, code):
    original = CORRUPTIONS["truncated"]
    write_raw_store(nx, original)
    result = nx.run(*args)
    assert result.returncode == code, describe(result)
    assert_presentable(result)
    kept = _assert_kept_aside(nx, result, original)
    # It may still hold tokens nexla can no longer read: the user is told to delete it.
    assert any(str(kept) in w and "delete" in w for w in warnings_in(result)), describe(result)


def test_a_file_from_a_newer_version_is_refused_not_rewritten(nx):
    raw = json.dumps({"version": 99, "environments": {}}).encode()
    path = write_raw_store(nx, raw)
    for args in (("token", "print"), ("env", "configure", nx.server.host, "--with-token")):
        result = nx.run(*args, input=nx.server.issue_token())
        assert_error(result, CONFIG, "newer")
        assert path.read_bytes() == raw
    assert sorted(p.name for p in nx.config_dir.iterdir()) == ["credentials.json"]


def test_store_unchanged_bytes_after_a_read(nx):
    """Reading commands never rewrite the store (no silent reformatting, no mode change)."""
    seed(nx)
    before = store_bytes(nx.config_dir)
    stamp = os.stat(store_path(nx.config_dir)).st_mtime_ns
    for args in (("token", "print"), ("token", "status"), ("env", "list"), ("env", "show")):
        nx.ok(*args)
    assert store_bytes(nx.config_dir) == before
    assert os.stat(store_path(nx.config_dir)).st_mtime_ns == stamp
