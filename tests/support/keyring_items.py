"""Service keys as the keyring tests seed them: the keys, the keyring item a saved key goes
in (docs/keyring.md), and the record `token from-key` stores."""

from __future__ import annotations

from tests.support.fake_nexla import DEFAULT_ORG, DEFAULT_USER

KEY = "svc-keyring-" + "k3y" * 10
OTHER_KEY = "svc-other-" + "0th3r" * 6
SERVICE = "nexla service key"


def keyring_reference(nx, config_dir=None) -> dict[str, str]:
    """The item `--save-key` keeps the key of the fake server's default identity in
    (docs/keyring.md), for the test's config dir or `config_dir`."""
    who = f"(user {DEFAULT_USER['id']}, org {DEFAULT_ORG['id']})"
    return {
        "service": SERVICE,
        "username": f"{nx.server.host} {who} in {config_dir or nx.config_dir}",
    }


def minted_record(nx, session: dict, **saved) -> dict:
    """An environment's record as `token from-key` stores it: a session minted with a key,
    with the times and token of `session`, and where the key is saved (`saved`)."""
    return {
        "api_url": nx.server.api_url,
        "session": {
            "access_token": session["access_token"],
            "expires_at": session["expires_at"],
            "expires_estimated": False,
            "obtained_at": session["obtained_at"],
            "org": {"id": DEFAULT_ORG["id"], "name": DEFAULT_ORG["name"]},
            "source": "service_key",
            "token_type": "Bearer",
            "user": {name: DEFAULT_USER[name] for name in ("email", "full_name", "id")},
        },
        **saved,
    }
