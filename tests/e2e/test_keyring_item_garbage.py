"""A keyring item that does not hold a service key (docs/keyring.md): changed outside
`nexla` to hold CR/LF, spaces, nothing at all or more than a key can be, it is keyring
trouble, exit 3 naming the item, with nothing sent; never a usage error.

Against a real Secret Service (gnome-keyring on a private D-Bus, tests/secret_service.py);
the item and the record are seeded as `token from-key --save-key` leaves them."""

from __future__ import annotations

import time

import pytest

from nexla_cli.core.model import MAX_SECRET_LENGTH
from tests.support.fake_nexla import DEFAULT_ORG, DEFAULT_USER
from tests.support.outcomes import assert_error
from tests.support.secret_service import SecretService, missing_programs
from tests.support.stores import store_bytes, write_store

# The keyring library finds D-Bus through the process's own environment: a real `nexla`.
pytestmark = pytest.mark.e2e

SERVICE = "nexla service key"
GARBAGE = {
    "crlf": "svc-key\r\nX-Injected: 1",
    "trailing newline": "svc-key-1\n",
    "spaces": "svc key 1",
    "empty": "",
    "control": "svc-\x1b[2J-key",
    "non-ascii": "svc-k\u00e9y",
    "over-long": "k" * (MAX_SECRET_LENGTH + 1),
}


@pytest.fixture(scope="module")
def secret_service():
    missing = missing_programs()
    if missing:
        pytest.skip(f"no Secret Service to test against ({', '.join(missing)} not installed)")
    service = SecretService().start()
    yield service
    service.stop()


def _seed_expired_session_with_key_item(nx, service: SecretService, secret: str) -> str:
    """An expired session minted from a key saved in the keyring, the item holding
    `secret`; returns the item's account (username)."""
    username = f"{nx.server.host} in {nx.config_dir}"
    service.store(SERVICE, username, secret, attributes={"application": "Python keyring library"})
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
            "org": {"id": DEFAULT_ORG["id"], "name": DEFAULT_ORG["name"]},
            "source": "service_key",
            "token_type": "Bearer",
            "user": {name: DEFAULT_USER[name] for name in ("email", "full_name", "id")},
        },
        "saved_key": {"in": "keyring", "service": SERVICE, "username": username},
    }
    write_store(nx.config_dir, {nx.server.host: record}, nx.server.host)
    nx.server.clear_log()
    return username


@pytest.mark.parametrize("kind", list(GARBAGE))
@pytest.mark.parametrize("command", [("token", "print"), ("token", "refresh")], ids=" ".join)
def test_a_keyring_item_that_holds_no_key_is_exit_3_naming_it(nx, secret_service, kind, command):
    username = _seed_expired_session_with_key_item(nx, secret_service, GARBAGE[kind])
    before = store_bytes(nx.config_dir)
    result = nx.run(*command, env=nx.env_with(**secret_service.env()))
    line = assert_error(result, 3, "keyring")
    assert SERVICE in line and username in line, line
    assert "hint: " in result.stderr and "--save-key" in result.stderr
    assert nx.server.count() == 0  # nothing sent, the key least of all
    assert store_bytes(nx.config_dir) == before  # nothing marked, the key not "rejected"
    if GARBAGE[kind]:
        assert GARBAGE[kind] not in result.stderr  # never the item's content


def test_a_good_item_still_re_mints(nx, secret_service):
    nx.server.add_service_key("svc-key-1")
    _seed_expired_session_with_key_item(nx, secret_service, "svc-key-1")
    result = nx.run("token", "print", env=nx.env_with(**secret_service.env()))
    assert result.returncode == 0, result.stderr
    assert nx.server.last("POST", "/token").authorization == "Basic svc-key-1"
