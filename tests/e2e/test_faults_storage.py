"""The e2e tier of tests/app/test_faults_storage.py, whose docstring says what is promised: the
cases that need a real `nexla` process (a terminal, signals, several processes, what a fresh
interpreter loads)."""

from __future__ import annotations

import subprocess

from tests.support.outcomes import describe
from tests.support.processes import nexla_executable
from tests.support.stores import mode


def run_with_umask(nx, *args, umask: int, input: str | None = None, env=None):
    return subprocess.run(
        [nexla_executable(), *args],
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        env=env or nx.env,
        cwd=nx.tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        umask=umask,
    )


# ---- permissions ---------------------------------------------------------------------------


# the process umask
def test_umask_000_still_gives_private_dir_file_lock_and_kept_file(nx):
    # The config dir's parents do not exist yet either: none of them may come out open.
    config = nx.tmp_path / "xdg" / "deep" / "nexla"
    env = nx.env_with(NEXLA_CONFIG_DIR=str(config))
    host = nx.server.host
    result = run_with_umask(
        nx,
        "env",
        "configure",
        host,
        "--with-token",
        umask=0,
        env=env,
        input=nx.server.issue_token(),
    )
    assert result.returncode == 0, describe(result)
    result = run_with_umask(nx, "token", "refresh", umask=0, env=env)
    assert result.returncode == 0, describe(result)

    # A corrupt file (world-writable, as umask 000 would leave it) is moved aside 0600.
    store = config / "credentials.json"
    store.write_text("{ not json")
    store.chmod(0o666)
    result = run_with_umask(
        nx,
        "env",
        "configure",
        host,
        "--with-token",
        umask=0,
        env=env,
        input=nx.server.issue_token(),
    )
    assert result.returncode == 0, describe(result)
    (kept,) = config.glob("credentials.json.corrupt-*")

    assert mode(config) == 0o700
    for parent in (config.parent, config.parent.parent):
        assert mode(parent) & 0o077 == 0, f"{parent} is {mode(parent):04o}"
    modes = {p.name: mode(p) for p in config.iterdir()}
    assert modes == {
        "credentials.json": 0o600,
        "credentials.json.lock": 0o600,
        kept.name: 0o600,
    }, modes


# ---- a corrupt file ------------------------------------------------------------------------


