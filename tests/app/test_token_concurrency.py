"""The store's lock, in-process: a command that cannot get it within NEXLA_LOCK_TIMEOUT is
exit 5 naming it, and changes nothing. Single-flight renewal across crowds of real processes
is in tests/e2e/test_token_concurrency.py."""

from __future__ import annotations

import filelock  # noqa: TID253 (tests are exempt from the start-up rule)

from tests.support.outcomes import describe
from tests.support.signing_in import from_key
from tests.support.stores import config_bytes, set_times

# The bound on a lock wait, short: nothing here should ever get the lock, so every second
# of it is waited out in full.
LOCK_WAIT = "0.2"


def test_lock_not_obtained_exits_5_naming_it_and_changes_nothing(nx):
    """The lock is held through a file descriptor of the test's own (an flock conflicts
    between descriptors, in one process as in two); each command waits out LOCK_WAIT."""
    token = nx.sign_in()
    set_times(nx, lifetime=3600, left=60)
    before = config_bytes(nx)
    nx.server.clear_log()
    lock_path = nx.config_dir / "credentials.json.lock"
    env = nx.env_with(NEXLA_LOCK_TIMEOUT=LOCK_WAIT)
    with filelock.FileLock(str(lock_path)):
        refreshed = nx.run("token", "refresh", env=env)
        printed = nx.run("token", "print", env=env)
        minted = from_key(nx, "svc-locked", env=env)
    for result in (refreshed, printed, minted):
        assert result.returncode == 5, describe(result)
        assert result.stdout == ""
        assert str(lock_path) in result.stderr
        assert "Traceback" not in result.stderr
    assert nx.server.count("POST", "/token/refresh") == 0
    assert config_bytes(nx) == before
    # A fresh token needs no lock at all.
    set_times(nx, lifetime=3600, left=3000)
    with filelock.FileLock(str(lock_path)):
        fresh = nx.run("token", "print", env=env)
    assert fresh.returncode == 0 and fresh.stdout == token + "\n", describe(fresh)
