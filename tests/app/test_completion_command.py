"""`nexla completion SHELL` prints the script the README's install table uses, the same as
the file in completions/ (README, "Shell completion")."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexla_cli.fast import fastcomplete
from tests.support.tab_presses import bash_variables, complete

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = {"bash": "nexla.bash", "zsh": "_nexla", "fish": "nexla.fish", "powershell": "nexla.ps1"}


@pytest.mark.parametrize("shell", SCRIPTS)
def test_completion_prints_the_committed_script(nx, shell):
    result = nx.ok("completion", shell)
    assert result.stdout == (ROOT / "completions" / SCRIPTS[shell]).read_text()
    assert result.stderr == ""


def test_an_unknown_shell_is_a_usage_error(nx):
    result = nx.fails(2, "completion", "tcsh")
    assert result.stdout == ""
    assert "tcsh" in result.stderr


def test_tab_offers_the_shells_and_never_files(nx):
    result = complete(nx, "bash", **bash_variables("nexla completion "))
    assert result.stdout.splitlines() == [fastcomplete.NO_FILES, *SCRIPTS]
