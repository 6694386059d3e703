"""credentials.json and the config directory as tests see them: reading, writing, editing.

The store's format is documented in docs/file-format.md. Tests edit a session's times
directly to put it exactly where a rule applies (inside the margin, just expired…) without
waiting for real time to pass; tests that need real expiry use the fake's short lifetimes.
Signing in (seeded or through the CLI) is in tests/support/signing_in.py.
"""

from __future__ import annotations

import copy
import json
import os
import stat
import time
from pathlib import Path

STORE_NAME = "credentials.json"
# `nexla` leaves this empty file beside the store once it has written it (docs/file-format.md).
LOCK_NAME = STORE_NAME + ".lock"
FORMAT_VERSION = 3


def now() -> int:
    """The current time as the store keeps times: whole Unix seconds."""
    return int(time.time())


# ---- reading --------------------------------------------------------------------------------


def store_path(config_dir: Path) -> Path:
    return Path(config_dir) / STORE_NAME


def store_bytes(config_dir: Path) -> bytes | None:
    """The store's exact bytes, or None when there is no file (not the same as an empty one)."""
    path = store_path(config_dir)
    return path.read_bytes() if path.exists() else None


def read_store(config_dir: Path) -> dict:
    return json.loads(store_path(config_dir).read_text())


def env_record(config_dir: Path, name: str) -> dict:
    return read_store(config_dir)["environments"][name]


def stored_session(nx, env: str | None = None) -> dict | None:
    """The session stored for `env` (default: the fake server's environment), None if none."""
    return env_record(nx.config_dir, env or nx.server.host).get("session")


def without_memo(data: dict) -> dict:
    """The store without the `refresh_failure` memo a failed refresh leaves (documented)."""
    data = copy.deepcopy(data)
    for env in data["environments"].values():
        if isinstance(env.get("session"), dict):
            env["session"].pop("refresh_failure", None)
    return data


# ---- writing and editing --------------------------------------------------------------------


def write_store(config_dir: Path, environments: dict, current: str | None) -> bytes:
    """Write a store in the current format holding `environments`; returns its bytes."""
    data = {"version": FORMAT_VERSION, "current": current, "environments": environments}
    return write_store_data(config_dir, data)


def write_store_data(config_dir: Path, data: dict) -> bytes:
    """Replace the store with `data` as `nexla` writes it; returns the bytes written.

    JSON with two-space indents and sorted keys and a final newline; the directory 0700
    (made if missing), the file 0600 and replaced atomically, so a `nexla` running at the
    same moment reads the old file or the new one.
    """
    config_dir = Path(config_dir)
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    raw = (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()
    path = store_path(config_dir)
    temp = path.with_name(".edit.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(raw)
    os.replace(temp, path)
    return raw


def edit_session(nx, env: str | None = None, **changes) -> dict:
    """Change fields of a stored session (None removes a field); returns the new session."""
    data = read_store(nx.config_dir)
    session = data["environments"][env or nx.server.host]["session"]
    for key, value in changes.items():
        if value is None:
            session.pop(key, None)
        else:
            session[key] = value
    write_store_data(nx.config_dir, data)
    return session


def set_times(
    nx, *, lifetime: float, left: float, env: str | None = None, **changes
) -> dict:
    """Make the stored session `lifetime` seconds long with `left` seconds to go."""
    current = now()
    return edit_session(
        nx,
        env,
        obtained_at=int(current + left - lifetime),
        expires_at=int(current + left),
        **changes,
    )


def wait_until_expired(nx, env: str | None = None) -> None:
    """Sleep until the stored session has expired both by its own clock and on the server."""
    session = stored_session(nx, env)
    deadline = time.time() + 30
    while time.time() < deadline:
        if time.time() > session["expires_at"] + 0.2 and not nx.server.is_valid(
            session["access_token"]
        ):
            return
        time.sleep(0.1)
    raise AssertionError("the session did not expire within 30 seconds")


# ---- what is on disk ------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in Path(root).rglob("*") if p.is_file() or p.is_symlink())


def config_bytes(nx) -> dict[str, bytes]:
    """Every file under the config dir and its content: to prove nothing changed."""
    if not nx.config_dir.exists():
        return {}
    return {
        str(path.relative_to(nx.config_dir)): path.read_bytes()
        for path in sorted(nx.config_dir.rglob("*"))
        if path.is_file()
    }


def config_contains(nx, secret: str) -> list[str]:
    """Files under the config dir that contain `secret` anywhere."""
    return [name for name, content in config_bytes(nx).items() if secret.encode() in content]


def files_containing(root: Path, *secrets: str) -> dict[str, list[str]]:
    """{relative path: [secrets found in it]} for every file under root holding any secret."""
    found: dict[str, list[str]] = {}
    for path in files_under(root):
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        hits = [s for s in secrets if s.encode() in raw]
        if hits:
            found[str(path.relative_to(root))] = hits
    return found


def write_raw_store(nx, content: bytes) -> Path:
    """A credentials file of exactly `content`, in a config directory made for it."""
    nx.config_dir.mkdir(mode=0o700)
    path = store_path(nx.config_dir)
    path.write_bytes(content)
    path.chmod(0o600)
    return path


def make_fifo_store(nx) -> Path:
    """A FIFO where the credentials file should be: a read of it would wait forever."""
    nx.config_dir.mkdir(mode=0o700)
    path = store_path(nx.config_dir)
    os.mkfifo(path, 0o600)
    return path
