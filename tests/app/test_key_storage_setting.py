"""`NEXLA_KEY_STORAGE` (docs/storage.md, docs/keyring.md) is checked on every run like
every other NEXLA_* setting: `auto`, `keyring`, `file` or unset (empty is unset); anything
else is exit 2 at once, whatever the command, the `token print` fast path included, which
still never loads the keyring library."""

from __future__ import annotations

import pytest

from tests.support.hostile_values import BAD_KEY_STORAGE
from tests.support.outcomes import assert_presentable, describe
from tests.support.signing_in import signed_in_with_time_left
from tests.support.stores import config_bytes

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


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("value", BAD_KEY_STORAGE[:2])
def test_a_bad_key_storage_is_exit_2_for_every_command(nx, argv, value):
    signed_in_with_time_left(nx, left=3000)
    argv = tuple(nx.server.host if a == "PLACEHOLDER" else a for a in argv)
    before = config_bytes(nx)
    result = nx.run(*argv, env=nx.env_with(NEXLA_KEY_STORAGE=value))
    assert result.returncode == 2, describe(result)
    assert result.stdout == ""
    assert result.stderr.startswith("error: NEXLA_KEY_STORAGE must be auto, keyring or file")
    assert_presentable(result)
    assert nx.server.count() == 0 and config_bytes(nx) == before


@pytest.mark.parametrize("value", ["auto", "keyring", "file", "", "  ", " file "])
def test_good_values_and_empty_leave_a_fresh_token_print_as_it_was(nx, value):
    token = signed_in_with_time_left(nx, left=3000)
    result = nx.run("token", "print", env=nx.env_with(NEXLA_KEY_STORAGE=value))
    assert (result.returncode, result.stdout, result.stderr) == (0, token + "\n", "")
