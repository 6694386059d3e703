"""Shared by the fault, stress, secrets and bad-input suites: seeding the store, reading it
back, and checking that a failure was reported the way README.md promises.

The store is seeded by writing `credentials.json` in the documented format
(docs/file-format.md) rather than by running `nexla env configure` for every case: the fault
matrix has dozens of cases and each sign-in would cost a process start and a request.
"""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import time
from pathlib import Path

STORE_NAME = "credentials.json"

# A 5xx page as a proxy or load balancer sends it; none of it may reach the user's terminal.
HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    "<body><h1>Bad Gateway</h1><p>PAGE-MARKER upstream said no</p></body></html>\n"
)
PAGE_MARKER = "PAGE-MARKER"


def store_path(config_dir: Path) -> Path:
    return config_dir / STORE_NAME


def store_bytes(config_dir: Path) -> bytes | None:
    path = store_path(config_dir)
    return path.read_bytes() if path.exists() else None


def store_json(config_dir: Path) -> dict:
    return json.loads(store_path(config_dir).read_text())


def session_of(config_dir: Path, name: str) -> dict | None:
    return store_json(config_dir)["environments"][name].get("session")


def without_memo(data: dict) -> dict:
    """The store without the `refresh_failure` memo a failed refresh leaves (documented)."""
    data = copy.deepcopy(data)
    for env in data["environments"].values():
        if isinstance(env.get("session"), dict):
            env["session"].pop("refresh_failure", None)
    return data


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
        "user": user or {"id": 42, "email": "ada@example.com", "full_name": "Ada Lovelace"},
        "org": {"id": 7, "name": "Example Org"},
    }


def write_store(config_dir: Path, environments: dict, current: str | None) -> bytes:
    """Write a version-1 store (dir 0700, file 0600) and return its bytes."""
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = {"version": 1, "current": current, "environments": environments}
    raw = (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()
    path = store_path(config_dir)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(raw)
    return raw


def seed(nx, token: str | None = None, *, service_key: str | None = None, **session) -> str:
    """Store one environment for the fake server, signed in with `token`; returns the token."""
    token = token or nx.server.issue_token()
    env = {"api_url": nx.server.api_url, "session": session_record(token, **session)}
    if service_key:
        env["service_key"] = service_key
    write_store(nx.config_dir, {nx.server.host: env}, nx.server.host)
    return token


def describe(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def assert_presentable(result: subprocess.CompletedProcess) -> None:
    """No traceback, no HTML page, no absurdly long line, whatever the outcome."""
    both = result.stdout + result.stderr
    assert "Traceback" not in both, describe(result)
    assert PAGE_MARKER not in both and "<html" not in both.lower(), describe(result)
    for line in result.stderr.splitlines():
        assert len(line) <= 500, f"overlong line: {line[:120]}…"


def assert_error(result: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """Exit `code`, exactly one `error:` line (mentioning any of `needles`), nothing on stdout."""
    assert result.returncode == code, describe(result)
    assert_presentable(result)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, describe(result)
    assert result.stdout == "", describe(result)
    if needles:
        assert any(n.lower() in errors[0].lower() for n in needles), (needles, describe(result))
    return errors[0]


def warnings_in(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning: ")]


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())


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


class PlainListener:
    """A plain-TCP socket on loopback that serves nothing: it only tells whether anyone came."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connections(self) -> int:
        """Connections accepted (and closed) since the last call."""
        seen = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return seen
            conn.close()
            seen += 1

    def close(self) -> None:
        self.sock.close()
