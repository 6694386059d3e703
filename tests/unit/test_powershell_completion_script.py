"""The PowerShell completion script's structure (README, Shell completion): it registers a
completer and binds no key, and every variable it sets for nexla is removed in a `finally`,
which PowerShell runs when a TAB press is interrupted with Ctrl-C too.

PowerShell is not installed where these tests run, so the script is read, not run: the
committed completions/nexla.ps1 (which tests/app/test_completion.py keeps equal to what
nexla prints). docs/portability.md lists it among what has not been run.
"""

from __future__ import annotations

import re
from pathlib import Path

SCRIPT = (Path(__file__).resolve().parents[2] / "completions" / "nexla.ps1").read_text()


def _code_lines() -> list[str]:
    return [line.strip() for line in SCRIPT.splitlines() if not line.strip().startswith("#")]


def test_no_key_is_rebound_for_the_session():
    code = "\n".join(_code_lines())
    assert "Set-PSReadLineKeyHandler" not in code
    assert "Import-Module PSReadLine" not in code
    assert code.count("Register-ArgumentCompleter -Native -CommandName nexla") == 1


def test_every_variable_set_is_set_inside_try_and_removed_in_finally():
    code = "\n".join(_code_lines())
    try_at, finally_at = code.find("try {"), code.find("} finally {")
    assert 0 <= try_at < finally_at, code
    guarded, cleanup = code[try_at:finally_at], code[finally_at:]
    assigned = set(re.findall(r"\$Env:(\w+)\s*=", code))
    assert assigned >= {"_NEXLA_COMPLETE", "_TYPER_COMPLETE_ARGS"}, assigned
    assert assigned == set(re.findall(r"\$Env:(\w+)\s*=", guarded))  # none outside try
    assert "Remove-Item" in cleanup
    assert assigned == set(re.findall(r"Env:(\w+)", cleanup))  # each removed, not blanked
    assert re.search(r"^\s*nexla \|", guarded, re.MULTILINE)  # nexla runs inside try


def test_braces_balance_and_line_continuations_end_their_lines():
    code = "\n".join(_code_lines())
    depth = 0
    for char in code:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0
    for line in SCRIPT.splitlines():
        if "`" in line:
            assert line.endswith("`"), repr(line)  # a backtick continues only at the end
