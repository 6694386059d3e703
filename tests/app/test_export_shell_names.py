"""`token export --format bash` and `--format zsh` are `sh` under the shell's own name
(docs/scripting.md)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_bash_and_zsh_print_what_sh_prints(nx, shell):
    nx.sign_in()
    assert (
        nx.ok("token", "export", "--format", shell).stdout
        == nx.ok("token", "export", "--format", "sh").stdout
    )


def test_help_says_bash_and_zsh_are_sh(nx):
    assert "bash and zsh are sh" in " ".join(nx.ok("token", "export", "--help").stdout.split())
