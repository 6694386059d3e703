"""`--json` writes characters as they are where stdout's encoding holds them, and \\u
escapes (the same JSON) where it does not (docs/scripting.md)."""

from __future__ import annotations

import json

import pytest

from tests.support.fake_nexla import DEFAULT_USER
from tests.support.inprocess import run_in_process

CASES = [
    # (PYTHONIOENCODING, the masked token's ellipsis as written)
    ("utf-8", "\u2026"),
    ("latin-1", "\\u2026"),
    ("ascii", "\\u2026"),
]


@pytest.mark.parametrize("encoding, written", CASES)
def test_env_show_json_writes_what_the_encoding_holds(nx, encoding, written):
    nx.sign_in()
    result = run_in_process(
        ["env", "show", "--json"], env=nx.env_with(PYTHONIOENCODING=encoding), cwd=nx.tmp_path
    )
    assert result.returncode == 0, result.stderr
    token_line = next(line for line in result.stdout.splitlines() if '"token"' in line)
    assert written in token_line
    assert "\u2026" in json.loads(result.stdout)["token"]


def test_controls_a_terminal_acts_on_stay_escaped(nx):
    name = "Ada\x9b2J\x7f \u2026"
    nx.sign_in(nx.server.issue_token(user={**DEFAULT_USER, "full_name": name}))
    result = nx.ok("token", "status", "--json")
    assert "\x9b" not in result.stdout and "\x7f" not in result.stdout
    assert json.loads(result.stdout)["user"]["full_name"] == name
    assert "\u2026" in result.stdout
