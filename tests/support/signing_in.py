"""Every way a test signs in: seeded files (the default) or the CLI (for tests of signing in).

Seeding writes credentials.json directly (docs/file-format.md) instead of running
`nexla env configure`: a test that is not about configure then costs no process and sends no
request before it starts, and the server's log holds only what the test itself did.
- `seed`: one environment for the fake server, with a session of chosen age and lifetime.
- `seed_pasted_token` / `seed_configured`: exactly what `env configure … --with-token` would
  store (tests/app/test_signing_in.py compares the two); `nx.sign_in()` uses it.
- `signed_in_with_time_left`: signed in, the session's times set to `left` seconds to go.
- `configure`, `from_key`: the real commands, for tests about them.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.fake_nexla import API_PREFIX, DEFAULT_ORG, DEFAULT_USER, FakeNexla
from tests.support.stores import (
    FORMAT_VERSION,
    LOCK_NAME,
    set_times,
    store_path,
    write_store,
    write_store_data,
)

# A pasted token that states no expiry is taken to last an hour (docs/sessions.md).
ESTIMATED_LIFETIME = 3600
# A JWT `exp` further ahead than this is not believed.
MAX_JWT_LIFETIME = 366 * 24 * 3600
_PERSON_FIELDS = ("id", "email", "full_name")


def second_name(nx) -> str:
    """A second environment on the same fake server: `localhost:PORT` (the certificate covers
    both names), so two environments can be configured against one server."""
    return f"localhost:{nx.server.port}"


# ---- a session of chosen times ----------------------------------------------------------------


def session_record(
    token: str,
    *,
    lifetime: int = 3600,
    age: int = 0,
    source: str = "pasted",
    user: dict | None = None,
) -> dict:
    """A stored session obtained `age` seconds ago that lasts `lifetime` seconds."""
    now = int(time.time())
    return {
        "access_token": token,
        "token_type": "Bearer",
        "obtained_at": now - age,
        "expires_at": now - age + lifetime,
        "expires_estimated": source == "pasted",
        "source": source,
        "user": user or dict(DEFAULT_USER),
        "org": dict(DEFAULT_ORG),
    }


def seed(nx, token: str | None = None, *, service_key: str | None = None, **session) -> str:
    """Store one environment for the fake server, signed in with `token` (issued by the
    server when not given) and current, with `service_key` saved in the file when given;
    nothing else is kept. Returns the token."""
    token = token or nx.server.issue_token()
    env = {"api_url": nx.server.api_url, "session": session_record(token, **session)}
    if service_key:
        env["saved_key"] = {"in": "file", "key": service_key}
    write_store(nx.config_dir, {nx.server.host: env}, nx.server.host)
    return token


# ---- what `nexla env configure NAME --with-token` stores ------------------------------------


def seed_configured(nx, name: str, token: str, *extra: str) -> dict:
    """What `configure(nx, name, token, *extra)` would store, seeded: see seed_pasted_token."""
    api_url, verify = configure_options(extra)
    return seed_pasted_token(nx.config_dir, nx.server, token, name, api_url=api_url, verify=verify)


def signed_in_with_time_left(nx, *, left: float, lifetime: float = 3600) -> str:
    """A refreshed-looking session with `left` seconds to go, valid on the server too, and
    an empty request log."""
    token: str = nx.sign_in()
    set_times(nx, lifetime=lifetime, left=left, source="refreshed", expires_estimated=False)
    nx.server.clear_log()
    return token


def seed_environments(nx, count: int) -> dict[str, str]:
    """`count` environments (env0.test, env1.test, …) whose API is the fake server; their
    tokens by name, and an empty request log."""
    tokens = {}
    for index in range(count):
        name = f"env{index}.test"
        tokens[name] = nx.server.issue_token()
        seed_configured(nx, name, tokens[name], "--api-url", nx.server.api_url)
    nx.server.clear_log()
    return tokens


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
    lock = Path(config_dir) / LOCK_NAME  # left by configure, as by every command that writes
    if not lock.exists():
        os.close(os.open(lock, os.O_WRONLY | os.O_CREAT, 0o600))
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


# ---- through the CLI --------------------------------------------------------------------------


def configure(nx, name: str, token: str, *extra: str, env=None) -> subprocess.CompletedProcess:
    """`nexla env configure NAME --with-token` with the token on stdin; must succeed."""
    return nx.ok("env", "configure", name, "--with-token", *extra, input=token + "\n", env=env)


def from_key(
    nx,
    key: str = "svc-key-1",
    *extra: str,
    env: dict[str, str] | None = None,
    register: bool = True,
) -> subprocess.CompletedProcess:
    """`nexla token from-key --env HOST EXTRA…` with the key in $NEXLA_SERVICE_KEY."""
    if register:
        nx.server.add_service_key(key)
    run_env = dict(env if env is not None else nx.env)
    run_env["NEXLA_SERVICE_KEY"] = key
    return nx.run("token", "from-key", "--env", nx.server.host, *extra, env=run_env)
