"""Real interactive shells pressing TAB: bash, zsh (sourced and autoloaded) and fish, each
with the committed script from completions/ sourced."""

import os
import shutil
from pathlib import Path

import pytest

from tests.support.processes import nexla_executable
from tests.support.terminals import close_ended

ROOT = Path(__file__).resolve().parents[2]

# Each shell gets a stand-in function `nexla` that prints its arguments, so pressing Enter
# after TAB shows the completed line. The completion scripts run the real program through
# `env`, which does not see shell functions.
SHELLS = {
    "bash": (
        ["bash", "--norc", "--noprofile", "-i"],
        [
            "PS1='$ '",
            "source {completions}/nexla.bash",
            "nexla() { printf '<ARGS:%s>\\n' \"$*\"; }",
        ],
    ),
    "zsh, sourced": (
        ["zsh", "-f", "-i"],
        [
            "PS1='$ '",
            "autoload -Uz compinit && compinit -u -D",
            "source {completions}/_nexla",
            'nexla() { print -r -- "<ARGS:$*>" }',
        ],
    ),
    "zsh, autoloaded from $fpath": (
        ["zsh", "-f", "-i"],
        [
            "PS1='$ '",
            "fpath=({completions} $fpath)",
            "autoload -Uz compinit && compinit -u -D",
            'nexla() { print -r -- "<ARGS:$*>" }',
        ],
    ),
    # macOS's /bin/bash 3.2 has no `compopt`: bash 5 with the builtin switched off.
    "bash without compopt": (
        ["bash", "--norc", "--noprofile", "-i"],
        [
            "PS1='$ '",
            "enable -n compopt",
            "type compopt >/dev/null 2>&1 && exit 3",  # still there: the test cannot stand
            "source {completions}/nexla.bash",
            "nexla() { printf '<ARGS:%s>\\n' \"$*\"; }",
        ],
    ),
    "fish": (
        ["fish", "--no-config", "-i"],
        [
            "function fish_prompt; echo '$ '; end",
            "source {completions}/nexla.fish",
            'function nexla; echo "<ARGS:$argv>"; end',
        ],
    ),
}


def press_tab(nx, shell: str, lines: list, path: tuple = (), shown: list | None = None) -> list:
    """Type each line, press TAB then Enter, in one real interactive shell; what each ran.
    `path`: directories put on PATH before the installed nexla's; `shown` collects what the
    terminal showed once the shell was set up."""
    pexpect = pytest.importorskip("pexpect")
    argv, setup = SHELLS[shell]
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    env = dict(
        nx.env,
        TERM="dumb",
        PATH=os.pathsep.join(
            [*map(str, path), str(Path(nexla_executable()).parent), os.environ.get("PATH", "")]
        ),
    )
    child = pexpect.spawn(
        argv[0],
        argv[1:],
        env=env,
        cwd=str(nx.tmp_path),
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 250),
    )
    # The shell reads what is typed in order, whenever it is ready: no pause before a send.
    child.delaybeforesend = None
    ran = []
    try:
        for line in setup:
            child.sendline(line.replace("{completions}", str(ROOT / "completions")))
        child.sendline("echo __READ''Y__")
        child.expect_exact("__READY__")
        if shown is not None:
            child.logfile_read = _Collect(shown)
        for typed in lines:
            # The shell finishes the completion before it reads the Enter that follows.
            child.send(typed + "\t")
            child.send("\r")
            child.expect(r"<ARGS:([^>\r\n]*)>")
            ran.append(child.match.group(1).strip())
        # Left by itself, not hung up on: close() then waits for nothing.
        child.sendline("exit")
        child.expect(pexpect.EOF)
        close_ended(child)
        return ran
    finally:
        child.close(force=True)


class _Collect:
    """A pexpect log that keeps what it is given."""

    def __init__(self, into: list) -> None:
        self.into = into

    def write(self, text: str) -> None:
        self.into.append(text)

    def flush(self) -> None:
        pass
