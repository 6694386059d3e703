"""`NEXLA_KEY_STORAGE` (docs/storage.md, docs/keyring.md) is checked on every run like
every other NEXLA_* setting: `auto`, `keyring`, `file` or unset (empty is unset); anything
else is exit 2 at once, whatever the command, the `token print` fast path included, which
still never loads the keyring library."""

from __future__ import annotations

import subprocess

import pytest

from tests.support.processes import nexla_executable
from tests.support.stores import set_times

COMMANDS = [
    ("token", "print"),  # a fresh token: the fast path's case
    ("token", "print", "--min-ttl", "60"),
    ("token", "status"),
    ("token", "export"),
    ("token", "exec", "--", "true"),
    ("token", "refresh"),
    ("env", "list"),
    ("env", "show"),
    ("env", "use", "--env", "PLACEHOLDER"),
    ("env", "logout"),
    ("api", "/users/current"),
]
BAD = ["bogus", "KEYRING", "files", "keyring,file", "auto\x1b[2J"]


def _fresh(nx) -> str:
    token = nx.sign_in()
    set_times(nx, lifetime=3600, left=3000, source="refreshed", expires_estimated=False)
    nx.server.clear_log()
    return token


def _imported(stderr: str) -> set[str]:
    """Module names from PYTHONPROFILEIMPORTTIME's lines on stderr."""
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


# what a fresh interpreter loads
@pytest.mark.parametrize("value, code", [("keyring", 0), ("bogus", 2)])
def test_the_fast_path_checks_it_without_loading_keyring(nx, value, code):
    token = _fresh(nx)
    env = dict(nx.env_with(NEXLA_KEY_STORAGE=value), PYTHONPROFILEIMPORTTIME="1")
    result = subprocess.run(
        [nexla_executable(), "token", "print"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    modules = _imported(result.stderr)
    assert result.returncode == code, result.stderr[-2000:]
    assert not {"keyring", "secretstorage", "jeepney"} & modules
    if code == 0:
        assert result.stdout == token + "\n"
        assert "typer" not in modules  # answered by the fast path
    else:
        assert "NEXLA_KEY_STORAGE" in result.stderr
