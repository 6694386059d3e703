"""The e2e tier of tests/app/test_completion.py, whose docstring says what is promised: the cases
that need a real `nexla` process (a terminal, signals, several processes, what a fresh
interpreter loads)."""

import subprocess

import pytest

from tests.support.processes import nexla_executable
from tests.support.real_shells import press_tab
from tests.support.startup import split_importtime
from tests.support.tab_presses import (
    PROTOCOLS,
    protocol_variables,
    seed_names,
    tab_press,
)


@pytest.fixture
def store(nx):
    """nx with three environments besides the fake server's (tab_presses.seed_names)."""
    return seed_names(nx)


# The fast completion answers as the full app does ------------------------------------------


def run_installed(nx, variables: dict) -> tuple:
    """The installed nexla's answer (exit code, stdout, stderr) and whether Typer was loaded."""
    result = subprocess.run(
        [nexla_executable()],
        env=nx.env_with(PYTHONPROFILEIMPORTTIME="1", **variables),
        cwd=nx.tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    modules, stderr = split_importtime(result.stderr)
    return (result.returncode, result.stdout, stderr), "typer" in modules


# what a fresh interpreter imports
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_installed_command_answers_names_without_typer(store, protocol):
    variables = protocol_variables(protocol, "nexla env use loc")
    answer, loaded_typer = run_installed(store, variables)
    assert not loaded_typer
    assert answer == tab_press(store, variables, "typer")
    assert "localhost" in answer[1] or protocol == "fish is-args"


# what a fresh interpreter imports
def test_the_installed_command_hands_other_lines_to_typer(store):
    # A PATH for --key-file: only Typer's completion knows what to answer.
    variables = protocol_variables("bash", "nexla token from-key --key-file ")
    answer, loaded_typer = run_installed(store, variables)
    assert loaded_typer
    assert answer == tab_press(store, variables, "typer")
    assert answer[0] == 0


# Real shells ------------------------------------------------------------------------------

REAL_CASES = [
    ("nexla env use loc", "env use localhost:8443"),
    ("nexla env use localhost:84", "env use localhost:8443"),
    ("nexla env use localhost:", "env use localhost:8443"),
    ("nexla env remove [::1]:8", "env remove [::1]:8443"),
    ("nexla token print --env=localhost:8", "token print --env=localhost:8443"),
    ("nexla env show --env dat", "env show --env dataops.nexla.io"),
    ("nexla env logout --env local", "env logout --env localhost:8443"),
    ("nexla token status -e 127.0.0.1:", "token status -e 127.0.0.1:PORT"),
    ("nexla env u", "env use"),
    # Nothing to offer: the word stays as typed, though zzz-notes.txt is in the directory.
    ("nexla env use zzz", "env use zzz"),
    ("nexla env configure dat", "env configure dataops.nexla.io"),
    ("nexla env configure zzz", "env configure zzz"),
]
# zsh and fish pass the whole line to nexla, so a colon needs nothing special there.
OTHER_SHELL_CASES = [REAL_CASES[i] for i in (0, 1, 5, 0, 8, 9, 10, 11)]
# The script autoloaded from $fpath is the same function as the sourced one once loaded:
# the first TAB loads it and offers a name, then nothing to offer, then a name again.
AUTOLOADED_CASES = [REAL_CASES[i] for i in (0, 9, 0)]


def _expected(cases, nx) -> list:
    return [ran.replace("PORT", str(nx.server.port)) for _, ran in cases]


# TAB pressed in a real shell
def test_bash_completes_on_tab(store):
    assert press_tab(store, "bash", [typed for typed, _ in REAL_CASES]) == _expected(
        REAL_CASES, store
    )
    assert store.server.count() == 0


# TAB pressed in a real shell
@pytest.mark.parametrize("shell", ["zsh, sourced", "zsh, autoloaded from $fpath", "fish"])
def test_zsh_and_fish_complete_on_tab(store, shell):
    cases = AUTOLOADED_CASES if "autoloaded" in shell else OTHER_SHELL_CASES
    ran = press_tab(store, shell, [typed for typed, _ in cases])
    assert ran == _expected(cases, store)
