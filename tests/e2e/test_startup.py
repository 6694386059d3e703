"""Start-up stays lean: which modules `nexla` loads, seen from the outside.

The installed `nexla` runs in a subprocess with PYTHONPROFILEIMPORTTIME=1, and Python itself
lists every module imported on stderr. `nexla --version`, a fresh `nexla token print` and TAB
completion must not load requests, rich or pydantic (nor urllib3 or filelock, which only
network and store writes need); a fresh `token print` and TAB on an environment name load no
third-party module but platformdirs (for the config directory), and not even Typer.
The ruff rule TID253 (tests/test_lint.py) guards the same thing in the source; this guards
what actually happens.

The import checker and the seeded stores are in tests/support/startup.py (the fast path's
and completion's tests use them too).
"""

import ast
import os
import subprocess
import sys

import pytest

from tests.support.startup import (
    platform_environment,
    run_with_importtime,
    seed_store,
    session_record,
    split_importtime,
    third_party,
    top_level,
)

# In tests/e2e: What a fresh interpreter imports can only be seen from outside the process.

HEAVY = {"requests", "rich", "pydantic", "urllib3", "filelock", "click"}
ALLOWED_THIRD_PARTY_FOR_TOKEN_PRINT = {"platformdirs", "nexla_cli"}
LEAN_STDLIB_AVOIDED = {"typing", "dataclasses", "inspect", "encodings.idna", "unicodedata"}


# Helpers --------------------------------------------------------------------------------


@pytest.fixture
def platform_env(tmp_path):
    """A store found the way users have it: no NEXLA_CONFIG_DIR, platformdirs and XDG."""
    return platform_environment(tmp_path)


# The checker itself ------------------------------------------------------------------------


def test_the_import_checker_sees_what_a_process_loads(tmp_path):
    # Without this, an empty module list would make every guard below pass.
    result = subprocess.run(
        [sys.executable, "-c", "import requests, platformdirs"],
        env=dict(os.environ, PYTHONPROFILEIMPORTTIME="1"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    modules, rest = split_importtime(result.stderr)
    assert {"requests", "urllib3", "platformdirs"} <= third_party(modules)
    assert "json" not in third_party(modules)  # stdlib is told apart
    assert rest == ""


# The guards --------------------------------------------------------------------------------


def test_fresh_token_print_loads_no_third_party_module_but_platformdirs(platform_env, tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("$XDG_CONFIG_HOME places the store on Linux only")
    seed_store(
        tmp_path / "xdg" / "nexla", {"dataops.nexla.io": session_record("tok-fresh", left=3000)}
    )
    platform_env["NEXLA_ENV"] = "dataops.nexla.io"

    result, modules, rest = run_with_importtime(["token", "print"], platform_env, tmp_path)

    assert (result.returncode, result.stdout, rest) == (0, "tok-fresh\n", "")
    assert third_party(modules) == ALLOWED_THIRD_PARTY_FOR_TOKEN_PRINT
    assert "nexla_cli.fast.fastpath" in modules
    assert not {"typer", "nexla_cli.cli.root", "nexla_cli.auth.storedsessions"} & modules
    assert "nexla_cli.library" not in modules  # the Python API (docs/python.md)
    # Standard library modules that cost milliseconds here and that the path does not need
    # (paths, store, model, names and output are kept free of them on purpose).
    assert not LEAN_STDLIB_AVOIDED & modules, sorted(LEAN_STDLIB_AVOIDED & modules)


def test_fresh_token_print_finds_the_store_where_platformdirs_says(platform_env, tmp_path):
    # A relative $XDG_CONFIG_HOME: whatever platformdirs makes of it, the fast path agrees.
    platform_env["XDG_CONFIG_HOME"] = "relative-config"
    where = subprocess.run(
        [sys.executable, "-c", "import platformdirs as p; print(p.user_config_dir('nexla'))"],
        env=platform_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    seed_store(
        tmp_path / where,
        {"dataops.nexla.io": session_record("tok-fresh", left=3000)},
        "dataops.nexla.io",
    )

    result, modules, rest = run_with_importtime(["token", "print"], platform_env, tmp_path)

    assert (result.returncode, result.stdout, rest) == (0, "tok-fresh\n", "")
    assert third_party(modules) == ALLOWED_THIRD_PARTY_FOR_TOKEN_PRINT
    assert "typer" not in modules


def test_importing_the_package_loads_not_the_python_api_until_asked(tmp_path):
    # docs/python.md: `import nexla_cli` is cheap; its names are loaded on first use.
    code = "import nexla_cli; import sys; print(sorted(sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code + "; nexla_cli.get_token; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    before, after = (set(ast.literal_eval(line)) for line in result.stdout.splitlines())
    assert not {"nexla_cli.library", "requests", "nexla_cli.deps"} & before
    assert "nexla_cli.library" in after  # the check above is about something


def test_access_token_variable_print_loads_nothing_but_the_fast_path(platform_env, tmp_path):
    platform_env["NEXLA_ACCESS_TOKEN"] = "tok-from-variable"
    result, modules, _ = run_with_importtime(["token", "print"], platform_env, tmp_path)
    assert (result.returncode, result.stdout) == (0, "tok-from-variable\n")
    assert third_party(modules) == {"nexla_cli"}


def test_version_loads_no_requests_rich_or_pydantic(platform_env, tmp_path):
    result, modules, rest = run_with_importtime(["--version"], platform_env, tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("nexla "), rest
    assert "typer" in modules  # the full app ran: the guard below is about something
    assert not HEAVY & top_level(modules), sorted(HEAVY & top_level(modules))


def test_help_loads_no_requests_rich_or_pydantic(platform_env, tmp_path):
    result, modules, rest = run_with_importtime(["--help"], platform_env, tmp_path)
    assert result.returncode == 0 and "Usage: nexla" in result.stdout, rest
    assert not HEAVY & top_level(modules), sorted(HEAVY & top_level(modules))


NAME_COMPLETIONS = {
    "bash": {"COMP_WORDS": "nexla\nenv\nuse\n", "COMP_CWORD": "3"},
    "zsh": {"_TYPER_COMPLETE_ARGS": "nexla env use "},
    "fish": {"_TYPER_COMPLETE_ARGS": "nexla env use ", "_TYPER_COMPLETE_FISH_ACTION": "get-args"},
    "powershell": {"_TYPER_COMPLETE_ARGS": "nexla env use", "_TYPER_COMPLETE_WORD_TO_COMPLETE": ""},
}


# A TAB press the completion table leaves to Typer: a line it cannot follow (an unknown
# command), where Typer still offers the commands that start with the word typed.
TYPER_COMPLETIONS = {
    "bash": {"COMP_WORDS": "nexla\nbogus\ne", "COMP_CWORD": "2"},
    "zsh": {"_TYPER_COMPLETE_ARGS": "nexla bogus e"},
    "fish": {"_TYPER_COMPLETE_ARGS": "nexla bogus e", "_TYPER_COMPLETE_FISH_ACTION": "get-args"},
    "powershell": {
        "_TYPER_COMPLETE_ARGS": "nexla bogus e",
        "_TYPER_COMPLETE_WORD_TO_COMPLETE": "e",
    },
}


@pytest.mark.parametrize("shell", sorted(TYPER_COMPLETIONS))
def test_tab_completion_loads_no_requests_rich_or_pydantic(shell, platform_env, tmp_path):
    # Answered through Typer. zsh, fish and PowerShell candidates may carry help texts,
    # which Typer would render through rich.
    seed_store(tmp_path / "xdg" / "nexla", {"dataops.nexla.io": None}, "dataops.nexla.io")
    env = dict(platform_env, _NEXLA_COMPLETE=f"complete_{shell}", **TYPER_COMPLETIONS[shell])

    result, modules, rest = run_with_importtime([], env, tmp_path)

    assert result.returncode == 0, rest
    assert "env" in result.stdout
    assert "typer" in modules
    assert not HEAVY & top_level(modules), sorted(HEAVY & top_level(modules))


@pytest.mark.parametrize("shell", sorted(NAME_COMPLETIONS))
def test_tab_completion_of_names_loads_no_third_party_module_but_platformdirs(
    shell, platform_env, tmp_path
):
    # Environment names are answered by nexla_cli/fast/fastcomplete.py, without Typer.
    seed_store(tmp_path / "xdg" / "nexla", {"dataops.nexla.io": None}, "dataops.nexla.io")
    env = dict(platform_env, _NEXLA_COMPLETE=f"complete_{shell}", **NAME_COMPLETIONS[shell])

    result, modules, rest = run_with_importtime([], env, tmp_path)

    assert (result.returncode, rest) == (0, "")
    assert "dataops.nexla.io" in result.stdout
    assert "nexla_cli.fast.fastcomplete" in modules
    assert third_party(modules) == ALLOWED_THIRD_PARTY_FOR_TOKEN_PRINT
