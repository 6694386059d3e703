"""`NEXLA_KEY_STORAGE` (docs/storage.md, docs/keyring.md) is checked on every run like
every other NEXLA_* setting: `auto`, `keyring`, `file` or unset (empty is unset); anything
else is exit 2 at once, whatever the command, the `token print` fast path included, which
still never loads the keyring library."""

from __future__ import annotations

import subprocess

import pytest

from tests.support.processes import nexla_executable
from tests.support.signing_in import signed_in_with_time_left
from tests.support.startup import split_importtime


# what a fresh interpreter loads
@pytest.mark.parametrize("value, code", [("keyring", 0), ("bogus", 2)])
def test_the_fast_path_checks_it_without_loading_keyring(nx, value, code):
    token = signed_in_with_time_left(nx, left=3000)
    env = dict(nx.env_with(NEXLA_KEY_STORAGE=value), PYTHONPROFILEIMPORTTIME="1")
    result = subprocess.run(
        [nexla_executable(), "token", "print"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    modules, _ = split_importtime(result.stderr)
    assert result.returncode == code, result.stderr[-2000:]
    assert not {"keyring", "secretstorage", "jeepney"} & modules
    if code == 0:
        assert result.stdout == token + "\n"
        assert "typer" not in modules  # answered by the fast path
    else:
        assert "NEXLA_KEY_STORAGE" in result.stderr
