"""A credentials file locked by another nexla for longer than NEXLA_LOCK_TIMEOUT: the store is
busy, not the network (README.md, "Exit codes"; docs/storage.md, "Atomic writes and the
lock"). It is its own error, StoreBusy, with exit 5 ("a retry later may work"), a hint to try
again, and not the hint about the server being unreachable."""

from __future__ import annotations

import filelock  # noqa: TID253 (tests are exempt from the start-up rule)


def test_token_refresh_on_a_busy_store_exits_5_with_try_again(nx):
    nx.sign_in()
    lock_path = nx.config_dir / "credentials.json.lock"
    with filelock.FileLock(str(lock_path)):
        result = nx.run("token", "refresh", env=nx.env_with(NEXLA_LOCK_TIMEOUT="0"))
    assert result.returncode == 5, result.stderr
    assert result.stdout == ""
    assert f"error: could not lock {lock_path} within 0 seconds" in result.stderr
    assert "try again when it is done" in result.stderr
    assert "server is reachable" not in result.stderr
    assert nx.server.count("POST", "/token/refresh") == 0
