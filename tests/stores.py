"""credentials.json as tests see it: seeding it the way the CLI would have left it.

The format is documented in docs/file-format.md. Seeding writes the file directly instead of
running `nexla env configure`: a test that is not about configure then costs no process and
sends no request before it starts, and the server's log holds only what the test itself did.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.fake_nexla import API_PREFIX, FakeNexla

STORE_NAME = "credentials.json"
# `nexla` leaves this empty file beside the store once it has written it (docs/file-format.md).
LOCK_NAME = STORE_NAME + ".lock"
FORMAT_VERSION = 1
# A pasted token that states no expiry is taken to last an hour (docs/sessions.md).
ESTIMATED_LIFETIME = 3600
# A JWT `exp` further ahead than this is not believed.
MAX_JWT_LIFETIME = 366 * 24 * 3600
_PERSON_FIELDS = ("id", "email", "full_name")


def store_path(config_dir: Path) -> Path:
    return Path(config_dir) / STORE_NAME


def write_store_data(config_dir: Path, data: dict) -> bytes:
    """Replace the store with `data` as `nexla` writes it; returns the bytes written.

    JSON with two-space indents and sorted keys, a final newline; the directory 0700 (made if
    missing), the file 0600, replaced atomically, the lock file beside it as `nexla` leaves it.
    """
    config_dir = Path(config_dir)
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    raw = (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()
    path = store_path(config_dir)
    temp = path.with_name(".seeding.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(raw)
    os.replace(temp, path)
    lock = config_dir / LOCK_NAME
    if not lock.exists():
        os.close(os.open(lock, os.O_WRONLY | os.O_CREAT, 0o600))
    return raw


# ---- what `nexla env configure NAME --with-token` stores ------------------------------------


def configure_options(extra: tuple[str, ...]) -> tuple[str | None, bool]:
    """(api_url, verify) from `env configure` options: `--api-url URL` and `--no-verify`.

    Any other option has effects this module does not reproduce: run the CLI for those.
    """
    api_url, verify, rest = None, True, list(extra)
    while rest:
        option = rest.pop(0)
        if option == "--no-verify":
            verify = False
        elif option == "--api-url" and rest:
            api_url = rest.pop(0)
        else:
            raise ValueError(f"cannot seed `env configure {option}`: run the CLI instead")
    return api_url, verify


def seed_pasted_token(
    config_dir: Path,
    server: FakeNexla,
    token: str,
    name: str | None = None,
    *,
    api_url: str | None = None,
    verify: bool = True,
) -> dict:
    """Store `token` as environment `name`'s session and make `name` current: what
    `nexla env configure NAME --with-token [--api-url URL] [--no-verify]` stores when the
    token is pasted, without running it and without the request it makes. Returns the
    session as stored.

    `name` defaults to the fake server's host. `api_url` must be written as the CLI stores
    one (https, no trailing slash); without it a new environment gets
    https://NAME/nexla-api and an existing one keeps its own. Other environments stay as
    they are.

    With `verify` (configure's default), the user and org come from the fake server, as
    configure learns them from GET /users/current; the token must be one `server` accepts
    and the API URL must be `server`'s, since configure would check the token there and
    refuse a dead one. Without it (`--no-verify`) nothing is known about the user and the
    token is not looked at.
    """
    name = name or server.host
    if Path(config_dir).exists() and os.stat(config_dir).st_mode & 0o077:
        raise ValueError(f"configure would tighten {config_dir}: run `nexla env configure`")
    data = _read_or_empty(config_dir)
    env = data["environments"].get(name)
    if env is not None and set(env) - {"api_url", "session"}:
        # configure would also forget a saved service key (and its keyring item).
        raise ValueError(f"{name} has a saved key: run `nexla env configure` to replace it")
    if env is None:
        env = data["environments"][name] = {"api_url": api_url or f"https://{name}{API_PREFIX}"}
    elif api_url:
        env["api_url"] = api_url
    user, org = _identity(server, token, env["api_url"]) if verify else ({}, None)
    now = int(time.time())
    expires_at, estimated = _pasted_expiry(token, now)
    env["session"] = {
        "access_token": token,
        "expires_at": expires_at,
        "expires_estimated": estimated,
        "obtained_at": now,
        "org": org,
        "source": "pasted",
        "token_type": "Bearer",
        "user": user,
    }
    data["current"] = name
    write_store_data(config_dir, data)
    return env["session"]


def _read_or_empty(config_dir: Path) -> dict:
    path = store_path(config_dir)
    if not path.exists():
        return {"version": FORMAT_VERSION, "current": None, "environments": {}}
    return json.loads(path.read_text())


def _identity(server: FakeNexla, token: str, api_url: str) -> tuple[dict, dict | None]:
    """(user, org) as configure keeps them from the fake's GET /users/current."""
    url = urlsplit(api_url)
    if url.port != server.port or url.path != API_PREFIX:
        raise ValueError(f"configure would check the token at {api_url}, not at the fake server")
    info = server.token_info(token)
    if info is None:
        raise AssertionError("the fake server does not accept this token: configure would fail")
    user = {key: info.user.get(key) for key in _PERSON_FIELDS}
    if info.impersonator is not None:
        user["impersonated"] = True
        user["impersonator"] = {key: info.impersonator.get(key) for key in _PERSON_FIELDS}
    org = None if info.org is None else {"id": info.org.get("id"), "name": info.org.get("name")}
    return user, org


def _pasted_expiry(token: str, now: int) -> tuple[int, bool]:
    """(expires_at, estimated): a JWT's `exp` when it states a believable one (the fake's
    JWTs do), else an hour from now, marked as an estimate."""
    exp = _jwt_exp(token)
    if exp is not None and now < exp <= now + MAX_JWT_LIFETIME:
        return int(exp), False
    return now + ESTIMATED_LIFETIME, True


def _jwt_exp(token: str) -> int | float | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return exp if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None
