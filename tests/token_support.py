"""Helpers shared by the `nexla token` tests: reading and shaping the store, running crowds.

The store's format is documented in docs/file-format.md; tests edit a session's times
directly to put it exactly where a rule applies (inside the margin, just expired…) without
waiting for real time to pass. Tests that need real expiry use the fake's short lifetimes.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from tests.conftest import Harness, nexla_executable


def store_file(nx: Harness) -> Path:
    return nx.config_dir / "credentials.json"


def read_store(nx: Harness) -> dict:
    return json.loads(store_file(nx).read_text())


def stored_session(nx: Harness, env: str | None = None) -> dict:
    return read_store(nx)["environments"][env or nx.server.host]["session"]


def write_store(nx: Harness, data: dict) -> None:
    path = store_file(nx)
    temp = path.with_name("edit.tmp")
    temp.write_text(json.dumps(data, indent=2))
    temp.chmod(0o600)
    os.replace(temp, path)


def edit_session(nx: Harness, env: str | None = None, **changes) -> dict:
    """Change fields of a stored session (None removes a field); returns the new session."""
    data = read_store(nx)
    session = data["environments"][env or nx.server.host]["session"]
    for key, value in changes.items():
        if value is None:
            session.pop(key, None)
        else:
            session[key] = value
    write_store(nx, data)
    return session


def set_times(
    nx: Harness, *, lifetime: float, left: float, env: str | None = None, **changes
) -> dict:
    """Make the stored session `lifetime` seconds long with `left` seconds to go."""
    now = int(time.time())
    return edit_session(
        nx,
        env,
        obtained_at=int(now + left - lifetime),
        expires_at=int(now + left),
        **changes,
    )


def config_bytes(nx: Harness) -> dict[str, bytes]:
    """Every file under the config dir and its content: to prove nothing changed."""
    if not nx.config_dir.exists():
        return {}
    return {
        str(path.relative_to(nx.config_dir)): path.read_bytes()
        for path in sorted(nx.config_dir.rglob("*"))
        if path.is_file()
    }


def config_contains(nx: Harness, secret: str) -> list[str]:
    """Files under the config dir that contain `secret` anywhere."""
    return [name for name, content in config_bytes(nx).items() if secret.encode() in content]


def from_key(
    nx: Harness,
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


def start(nx: Harness, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start `nexla ARGS` in the background, stdin /dev/null, output captured."""
    return subprocess.Popen(
        [nexla_executable(), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env if env is not None else nx.env,
        cwd=nx.tmp_path,
        text=True,
    )


def run_together(
    nx: Harness, commands: list[tuple[str, ...]], env: dict[str, str] | None = None, timeout=120
) -> list[subprocess.CompletedProcess]:
    """Start every command at once, then wait for all; results in the order given."""
    return collect(commands, [start(nx, *args, env=env) for args in commands], timeout)


def collect(
    commands: list[tuple[str, ...]], procs: list[subprocess.Popen], timeout=120
) -> list[subprocess.CompletedProcess]:
    """Wait for every process started for `commands`; kill them all if one takes too long."""
    results = []
    for args, proc in zip(commands, procs, strict=True):
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for other in procs:
                other.kill()
            raise
        results.append(subprocess.CompletedProcess(args, proc.returncode, out, err))
    return results


def describe(results) -> str:
    """Exit codes and output of many runs, for assertion messages."""
    if isinstance(results, subprocess.CompletedProcess):
        results = [results]
    return "\n".join(f"[{r.returncode}] stdout={r.stdout!r} stderr={r.stderr!r}" for r in results)


def wait_until_expired(nx: Harness, env: str | None = None) -> None:
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
