"""TAB in a bash without `compopt`, as macOS's /bin/bash 3.2 is (README, "Shell completion"):
a real interactive bash with the builtin switched off completes names and prints no error."""

import os
import shutil
from pathlib import Path

import pexpect
import pytest

from tests.support.processes import nexla_executable
from tests.support.tab_presses import seed_names
from tests.support.terminals import close_ended

ROOT = Path(__file__).resolve().parents[2]

SETUP = [
    "PS1='$ '",
    "enable -n compopt",  # what bash 3.2 lacks
    f"source {ROOT / 'completions' / 'nexla.bash'}",
    "nexla() { printf '<ARGS:%s>\\n' \"$*\"; }",
]


def _tab_in_bash_without_compopt(nx, lines: list) -> tuple:
    """Each line typed, TAB, Enter; (what each ran, all the terminal showed)."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    env = dict(
        nx.env,
        TERM="dumb",
        PATH=f"{Path(nexla_executable()).parent}{os.pathsep}" + os.environ.get("PATH", ""),
    )
    child = pexpect.spawn(
        "bash",
        ["--norc", "--noprofile", "-i"],
        env=env,
        cwd=str(nx.tmp_path),
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 250),
    )
    child.delaybeforesend = None
    shown = []
    child.logfile_read = _Collect(shown)
    ran = []
    try:
        for line in SETUP:
            child.sendline(line)
        child.sendline("type compopt >/dev/null 2>&1 || echo __NO''_COMPOPT__")
        child.expect_exact("__NO_COMPOPT__")
        for typed in lines:
            child.send(typed + "\t")
            child.send("\r")
            child.expect(r"<ARGS:([^>\r\n]*)>")
            ran.append(child.match.group(1).strip())
        child.sendline("exit")
        child.expect(pexpect.EOF)
        close_ended(child)
    finally:
        child.close(force=True)
    return ran, "".join(shown)


class _Collect:
    def __init__(self, into: list) -> None:
        self.into = into

    def write(self, text: str) -> None:
        self.into.append(text)

    def flush(self) -> None:
        pass


# TAB pressed in a real shell
def test_bash_without_compopt_completes_names_with_no_error_output(nx):
    seed_names(nx)
    ran, shown = _tab_in_bash_without_compopt(
        nx, ["nexla env use loc", "nexla env use zzz", "nexla env use dat"]
    )
    # A name completes as in any bash. With nothing to offer, bash 3.2 cannot be told to
    # offer no files: it falls back to the files here (zzz-notes.txt), as documented.
    assert ran == ["env use localhost:8443", "env use zzz-notes.txt", "env use dataops.nexla.io"]
    after_setup = shown.split("__NO_COMPOPT__", 1)[-1]
    assert "compopt" not in after_setup
    assert "not found" not in after_setup
    assert nx.server.count() == 0
