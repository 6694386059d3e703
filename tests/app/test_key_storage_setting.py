"""`NEXLA_KEY_STORAGE` (docs/storage.md, docs/keyring.md) is checked on every run like
every other NEXLA_* setting: `auto`, `keyring`, `file` or unset (empty is unset); anything
else is exit 2 at once, whatever the command, the `token print` fast path included, which
still never loads the keyring library."""

from __future__ import annotations

import pytest

from nexla_cli.core import settings
from nexla_cli.core.errors import UsageError
from tests.support.outcomes import assert_presentable, describe
from tests.support.stores import config_bytes, set_times

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


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("value", BAD[:2])
def test_a_bad_key_storage_is_exit_2_for_every_command(nx, argv, value):
    _fresh(nx)
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
    token = _fresh(nx)
    result = nx.run("token", "print", env=nx.env_with(NEXLA_KEY_STORAGE=value))
    assert (result.returncode, result.stdout, result.stderr) == (0, token + "\n", "")


@pytest.mark.parametrize(
    "value, choice",
    [(None, "auto"), ("", "auto"), (" ", "auto"), ("auto", "auto"), (" keyring", "keyring")]
    + [("file", "file")],
)
def test_key_storage_choices(value, choice):
    environ = {} if value is None else {"NEXLA_KEY_STORAGE": value}
    assert settings.key_storage(environ) == choice


@pytest.mark.parametrize("value", BAD)
def test_key_storage_refusals_are_one_line(value):
    with pytest.raises(UsageError) as caught:
        settings.check_all({"NEXLA_KEY_STORAGE": value})
    assert "\x1b" not in caught.value.message and "\n" not in caught.value.message


def _imported(stderr: str) -> set[str]:
    """Module names from PYTHONPROFILEIMPORTTIME's lines on stderr."""
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
