"""A service key saved in the credentials file that is not a key (the file edited by hand:
docs/keyring.md): a re-mint is exit 3 naming where the key is, with nothing sent; never a
usage error, and an over-long key is never sent."""

from __future__ import annotations

import time

import pytest

from nexla_cli.core.model import MAX_SECRET_LENGTH
from tests.support.outcomes import assert_error
from tests.support.stores import store_bytes, write_store

GARBAGE = {
    "crlf": "svc-key\r\nX-Injected: 1",
    "spaces": "svc key 1",
    "control": "svc-\x1b[2J-key",
    "non-ascii": "svc-k\u00e9y",
    "over-long": "k" * (MAX_SECRET_LENGTH + 1),
}


def _seed_expired_session_with_key_in_file(nx, key: str) -> None:
    token = nx.server.issue_token(source="service_key")
    nx.server.expire(token)
    now = int(time.time())
    record = {
        "api_url": nx.server.api_url,
        "session": {
            "access_token": token,
            "expires_at": now - 10,
            "expires_estimated": False,
            "obtained_at": now - 3610,
            "source": "service_key",
            "token_type": "Bearer",
        },
        "saved_key": {"in": "file", "key": key},
    }
    write_store(nx.config_dir, {nx.server.host: record}, nx.server.host)
    nx.server.clear_log()


@pytest.mark.parametrize("kind", list(GARBAGE))
@pytest.mark.parametrize("command", [("token", "print"), ("token", "refresh")], ids=" ".join)
def test_a_saved_key_that_is_not_a_key_is_exit_3(nx, kind, command):
    _seed_expired_session_with_key_in_file(nx, GARBAGE[kind])
    before = store_bytes(nx.config_dir)
    result = nx.run(*command)
    assert_error(result, 3, "credentials file")
    assert "--save-key" in result.stderr
    assert GARBAGE[kind] not in result.stderr
    assert nx.server.count() == 0
    assert store_bytes(nx.config_dir) == before


def test_a_good_saved_key_still_re_mints(nx):
    nx.server.add_service_key("svc-key-1")
    _seed_expired_session_with_key_in_file(nx, "svc-key-1")
    result = nx.run("token", "print")
    assert result.returncode == 0, result.stderr
    assert nx.server.last("POST", "/token").authorization == "Basic svc-key-1"
