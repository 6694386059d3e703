"""Which name a mistyped word is offered: only a close one (nexla_cli/core/suggest.py)."""

from __future__ import annotations

import pytest

from nexla_cli.core.suggest import close_names, did_you_mean

COMMANDS = ["api", "help", "env", "token"]
ROOT_OPTIONS = ["--version", "--debug", "--help"]

CASES = [
    # (typed, names, offered)
    ("tokn", COMMANDS, ["token"]),
    ("hlep", COMMANDS, ["help"]),
    ("nope", COMMANDS, []),
    ("--verison", ROOT_OPTIONS, ["--version"]),
    ("--json", ROOT_OPTIONS, []),  # click offers --version here: misleading
    ("--mni-ttl", ["--min-ttl", "--env", "--help"], ["--min-ttl"]),
    ("pirnt", ["print", "status", "refresh", "export", "exec", "from-key"], ["print"]),
]


@pytest.mark.parametrize("typed, names, offered", CASES)
def test_only_a_close_name_is_offered(typed, names, offered):
    assert close_names(typed, names) == offered


@pytest.mark.parametrize(
    "names, text",
    [([], ""), (["token"], " Did you mean 'token'?"), (["a", "b"], " Did you mean 'a' or 'b'?")],
)
def test_did_you_mean(names, text):
    assert did_you_mean(names) == text
