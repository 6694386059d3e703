"""TAB in real shells on command names, `nexla help` and `token exec`'s COMMAND (README.md,
"Shell completion"): `nexla help` completes command names and never file names; after
`token exec [OPTIONS] --` the shell completes COMMAND from PATH (as after `sudo`), then
COMMAND's own arguments as it would for COMMAND (file names when COMMAND has no completion
of its own).

The working directory holds files whose names start like the words typed (tab_presses
.seed_names), so a shell that fell back to completing files would show it."""

import os

import pytest

from tests.support.real_shells import press_tab
from tests.support.tab_presses import seed_names

SHELLS = ["bash", "zsh, sourced", "fish"]

# (typed, then TAB: what the completed line ran)
HELP_CASES = [
    ("nexla help t", "help token"),
    ("nexla help token r", "help token refresh"),
    ("nexla help env con", "help env configure"),
    # No command starts with zzz, and zzz-notes.txt is in the directory: nothing offered.
    ("nexla help zzz", "help zzz"),
    ("nexla help env use zzz", "help env use zzz"),
    ("nexla zzz", "zzz"),
    ("nexla token print --zzz", "token print --zzz"),
]
EXEC_CASES = [
    ("nexla token exec -- zqprobe-c", "token exec -- zqprobe-command"),
    ("nexla token exec --env dataops.nexla.io -- zqprobe-c", None),
    ("nexla token exec --min-ttl 60 zqprobe-c", "token exec --min-ttl 60 zqprobe-command"),
    # COMMAND's arguments are COMMAND's: this one has no completion, so file names.
    ("nexla token exec -- zqprobe-command zzz-no", "token exec -- zqprobe-command zzz-notes.txt"),
]


@pytest.fixture
def store(nx):
    seed_names(nx)
    (nx.tmp_path / "tzz-file.txt").write_text("")
    return nx


def probe_directory(nx):
    """A directory with one executable, `zqprobe-command`, for PATH."""
    directory = nx.tmp_path / "probe-bin"
    directory.mkdir()
    probe = directory / "zqprobe-command"
    probe.write_text("#!/bin/sh\nexit 0\n")
    probe.chmod(0o755)
    return directory


# TAB pressed in a real shell
@pytest.mark.parametrize("shell", SHELLS)
def test_help_completes_command_names_never_files(store, shell):
    ran = press_tab(store, shell, [typed for typed, _ in HELP_CASES])
    assert ran == [expected for _, expected in HELP_CASES]


# TAB pressed in a real shell
@pytest.mark.parametrize("shell", SHELLS)
def test_token_exec_completes_commands_on_path_then_their_arguments(store, shell):
    cases = [
        (typed, expected or "token exec --env dataops.nexla.io -- zqprobe-command")
        for typed, expected in EXEC_CASES
    ]
    ran = press_tab(store, shell, [typed for typed, _ in cases], path=(probe_directory(store),))
    assert ran == [expected for _, expected in cases]
    assert os.path.exists(store.tmp_path / "zzz-notes.txt")
