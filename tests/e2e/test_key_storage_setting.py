"""The e2e tier of tests/app/test_key_storage_setting.py, whose docstring says what is promised:
the cases that need a real `nexla` process (a terminal, signals, several processes, what a fresh
interpreter loads)."""

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
