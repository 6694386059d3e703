"""Saved service keys are never lost (docs/keyring.md): not to a command that overlaps,
not to a copy of the config directory, not to saving the same key again.

Each test runs real `nexla` processes against a real Secret Service (gnome-keyring-daemon
on a private D-Bus bus, tests/secret_service.py), and checks from outside what the keyring
holds. The overlap is made deterministic: the first command is stopped (SIGSTOP) the
moment it lets go of the store's lock, as /proc/locks shows, the second runs to its end,
then the first is continued.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.outcomes import describe, warnings_in
from tests.support.processes import finish, start
from tests.support.secret_service import SecretService, missing_programs
from tests.support.stores import LOCK_NAME, env_record, stored_session

pytestmark = [
    pytest.mark.e2e,  # real processes, real keyring
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="/proc/locks and D-Bus are Linux's"
    ),
]

KEY = "svc-race-" + "k1" * 12
OTHER_KEY = "svc-race-other-" + "k2" * 10
UNTOUCHED = "saved before, never rewritten"


@pytest.fixture(scope="module")
def keyring_daemon():
    missing = missing_programs()
    if missing:
        pytest.skip(f"no Secret Service to test against ({', '.join(missing)} not installed)")
    service = SecretService().start()
    yield service
    service.stop()


def keyring_env(nx, service: SecretService, config_dir: Path | None = None, **more: str):
    return nx.env_with(**service.env(), NEXLA_CONFIG_DIR=str(config_dir or nx.config_dir), **more)


def save_key(nx, env: dict[str, str], key: str) -> subprocess.CompletedProcess:
    nx.server.add_service_key(key)
    result = nx.run(
        "token",
        "from-key",
        "--env",
        nx.server.host,
        "--save-key",
        env={**env, "NEXLA_SERVICE_KEY": key},
    )
    assert result.returncode == 0, describe(result)
    return result


def named_item(config_dir: Path, host: str) -> dict[str, str]:
    saved = env_record(config_dir, host)["saved_key"]
    assert saved["in"] == "keyring", saved
    return {"service": saved["service"], "username": saved["username"]}


def remint(nx, env: dict[str, str]) -> subprocess.CompletedProcess:
    """A re-mint from the saved key: the server refuses the stored token's refresh."""
    nx.server.invalidate(stored_session(nx)["access_token"])
    return nx.run("token", "refresh", env=env)


# Stopping a process the moment it releases the store's lock ------------------------------


def _lock_holders(lock_file: Path) -> set[int]:
    """PIDs holding a lock on `lock_file` (its inode), as /proc/locks lists them."""
    try:
        inode = os.stat(lock_file).st_ino
    except FileNotFoundError:
        return set()
    holders = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (blocked waiters carry "->")
        if "->" in fields or len(fields) < 6:
            continue
        if fields[5].rsplit(":", 1)[-1] == str(inode):
            holders.add(int(fields[4]))
    return holders


def stopped_after_its_lock(proc: subprocess.Popen, lock_file: Path, timeout: float = 30) -> None:
    """SIGSTOP `proc` as soon as it has held the lock and let go of it."""
    deadline = time.monotonic() + timeout
    held = False
    while time.monotonic() < deadline:
        holding = proc.pid in _lock_holders(lock_file)
        if holding:
            held = True
        elif held:
            os.kill(proc.pid, signal.SIGSTOP)
            return
        if proc.poll() is not None:
            raise AssertionError(f"it ended before it was seen to release the lock: {proc.args}")
    raise AssertionError("the lock was not taken and released in time")


def overlapped(nx, first: subprocess.Popen, second) -> subprocess.CompletedProcess:
    """Run `second()` while `first` is stopped right after releasing the lock; then let
    `first` finish. Returns first's result."""
    stopped_after_its_lock(first, nx.config_dir / LOCK_NAME)
    try:
        second()
    finally:
        os.kill(first.pid, signal.SIGCONT)
    return finish(first)


# a. A key deleted after the lock is released ----------------------------------------------


def _logout(nx, env):
    return start(nx, "env", "logout", env=env)


def _remove(nx, env):
    return start(nx, "env", "remove", nx.server.host, env=env)


def _pasted_sign_in(nx, env):
    token = nx.server.issue_token()
    return start(
        nx, "env", "configure", nx.server.host, "--with-token", env=env, input=token + "\n"
    )


@pytest.mark.parametrize(
    "forgetting",
    [_logout, _remove, _pasted_sign_in],
    ids=["env logout", "env remove", "pasted-token sign-in"],
)
def test_a_key_saved_while_another_command_forgets_the_old_one_stays(
    nx, keyring_daemon, forgetting
):
    """docs/keyring.md: never a reference to a key that is not there. The command that
    forgets a key deletes its item before it lets go of the lock, so a save that follows
    it (and finds the same key in the same item) is not undone."""
    env = keyring_env(nx, keyring_daemon)
    save_key(nx, env, KEY)

    first = forgetting(nx, env)
    result = overlapped(nx, first, lambda: save_key(nx, env, KEY))

    assert result.returncode == 0, describe(result)
    assert keyring_daemon.lookup(**named_item(nx.config_dir, nx.server.host)) == KEY
    reminted = remint(nx, env)
    assert reminted.returncode == 0, describe(reminted)


def test_a_key_saved_while_another_key_replaces_it_stays(nx, keyring_daemon):
    """Saving key 2 deletes key 1's item; a save of key 1 that overlaps it keeps its key."""
    env = keyring_env(nx, keyring_daemon)
    save_key(nx, env, KEY)
    nx.server.add_service_key(OTHER_KEY)

    first = start(
        nx,
        "token",
        "from-key",
        "--env",
        nx.server.host,
        "--save-key",
        env={**env, "NEXLA_SERVICE_KEY": OTHER_KEY},
    )
    result = overlapped(nx, first, lambda: save_key(nx, env, KEY))

    assert result.returncode == 0, describe(result)
    assert keyring_daemon.lookup(**named_item(nx.config_dir, nx.server.host)) == KEY
    reminted = remint(nx, env)
    assert reminted.returncode == 0, describe(reminted)


# b. A copy of the config directory ----------------------------------------------------------


def test_removing_an_environment_in_a_copied_config_dir_keeps_the_original_key(nx, keyring_daemon):
    """docs/keyring.md: two config directories never share or delete each other's key,
    also when one is a copy of the other (a restored backup, a CI job seeded from it)."""
    env = keyring_env(nx, keyring_daemon)
    save_key(nx, env, KEY)
    original = named_item(nx.config_dir, nx.server.host)
    copy = nx.tmp_path / "copied-config"
    shutil.copytree(nx.config_dir, copy)

    removed = nx.run("env", "remove", nx.server.host, env=keyring_env(nx, keyring_daemon, copy))

    assert removed.returncode == 0, describe(removed)
    assert warnings_in(removed) == []
    assert keyring_daemon.lookup(**original) == KEY
    reminted = remint(nx, env)
    assert reminted.returncode == 0, describe(reminted)


def test_a_new_key_saved_in_a_copied_config_dir_leaves_the_original_item_alone(nx, keyring_daemon):
    env = keyring_env(nx, keyring_daemon)
    save_key(nx, env, KEY)
    original = named_item(nx.config_dir, nx.server.host)
    copy = nx.tmp_path / "copied-config"
    shutil.copytree(nx.config_dir, copy)

    save_key(nx, keyring_env(nx, keyring_daemon, copy), OTHER_KEY)

    assert keyring_daemon.lookup(**original) == KEY
    own = named_item(copy, nx.server.host)
    assert own["username"].startswith(f"{nx.server.host} (user 42, org 7) in {copy}")
    assert keyring_daemon.lookup(**own) == OTHER_KEY


# c. Saving the key that is already saved --------------------------------------------------


def test_saving_the_saved_key_again_after_a_key_change_does_not_rewrite_it(nx, keyring_daemon):
    """docs/keyring.md: a key already in the keyring is not written again, also when it
    lives in the item of its own that a key change gave it."""
    env = keyring_env(nx, keyring_daemon)
    save_key(nx, env, KEY)
    save_key(nx, env, OTHER_KEY)  # into an item of its own; KEY's is deleted
    item = named_item(nx.config_dir, nx.server.host)
    assert item["username"] != f"{nx.server.host} (user 42, org 7) in {nx.config_dir}"
    # A label no write through the keyring library would leave.
    keyring_daemon.store(
        **item,
        secret=OTHER_KEY,
        label=UNTOUCHED,
        attributes={"application": "Python keyring library"},
    )
    written = keyring_daemon.modified(**item)

    save_key(nx, env, OTHER_KEY)

    assert named_item(nx.config_dir, nx.server.host) == item
    assert keyring_daemon.label(**item) == UNTOUCHED
    assert keyring_daemon.modified(**item) == written
    base = {
        "service": item["service"],
        "username": f"{nx.server.host} (user 42, org 7) in {nx.config_dir}",
    }
    assert keyring_daemon.lookup(**base) is None  # no second copy of the key either
