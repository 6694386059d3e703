"""Start-up stays lean: which modules `nexla` loads, seen from the outside.

The installed `nexla` runs in a subprocess with PYTHONPROFILEIMPORTTIME=1, and Python itself
lists every module imported on stderr. `nexla --version`, a fresh `nexla token print` and TAB
completion must not load requests, rich or pydantic (nor urllib3 or filelock, which only
network and store writes need); a fresh `token print` and TAB on an environment name load no
third-party module but platformdirs (for the config directory), and not even Typer.
The ruff rule TID253 (tests/test_lint.py) guards the same thing in the source; this guards
what actually happens.

Helpers here (seed_store, session_record, split_importtime) are shared with
test_fastpath.py and test_completion.py.
"""

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import nexla_executable

# What a fresh interpreter imports can only be seen from outside the process.
pytestmark = pytest.mark.e2e

HEAVY = {"requests", "rich", "pydantic", "urllib3", "filelock", "click"}
ALLOWED_THIRD_PARTY_FOR_TOKEN_PRINT = {"platformdirs", "nexla_cli"}
LEAN_STDLIB_AVOIDED = {"typing", "dataclasses", "inspect", "encodings.idna", "unicodedata"}
IMPORT_LINE_PREFIX = "import time:"


# Helpers --------------------------------------------------------------------------------


def session_record(
    token: str, *, left: float, lifetime: int = 3600, now: float | None = None, **extra
) -> dict:
    """A stored session with `left` seconds to go (from `now`) out of `lifetime`."""
    now = int(time.time() if now is None else now)
    expires_at = int(now + left)
    record = {
        "access_token": token,
        "token_type": "Bearer",
        "obtained_at": expires_at - lifetime,
        "expires_at": expires_at,
        "expires_estimated": False,
        "source": "refreshed",
        "user": {"id": 42, "email": "ada@example.com", "full_name": "Ada Lovelace"},
        "org": {"id": 7, "name": "Example Org"},
    }
    record.update(extra)
    return record


def seed_store(config_dir: Path, environments: dict, current=None, mode: int = 0o600) -> Path:
    """Write credentials.json (format 2, see docs/file-format.md) straight into config_dir.

    `environments` maps a name to its session record (or None: configured, not signed in);
    the API URL is https://NAME/nexla-api unless the record is a (api_url, session) pair.
    """
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    envs = {}
    for name, value in environments.items():
        api_url, session = value if isinstance(value, tuple) else (None, value)
        envs[name] = {"api_url": api_url or f"https://{name}/nexla-api"}
        if session is not None:
            envs[name]["session"] = session
    path = config_dir / "credentials.json"
    path.write_text(json.dumps({"version": 2, "current": current, "environments": envs}))
    path.chmod(mode)
    return path


def split_importtime(stderr: str):
    """(modules imported, the rest of stderr) from a run with PYTHONPROFILEIMPORTTIME=1."""
    modules, rest = set(), []
    for line in stderr.splitlines(keepends=True):
        if line.startswith(IMPORT_LINE_PREFIX):
            name = line.rsplit("|", 1)[-1].strip()
            if name != "imported package":
                modules.add(name)
        else:
            rest.append(line)
    return modules, "".join(rest)


def top_level(modules) -> set:
    return {name.split(".")[0] for name in modules}


def third_party(modules) -> set:
    # importtime also lists imports that failed, such as copy's probe for Jython's `org`.
    return {
        name
        for name in top_level(modules)
        if name not in sys.stdlib_module_names and importlib.util.find_spec(name) is not None
    }


# Variables read by nexla alone, or naming a test's fresh, empty home: none of them changes
# what the interpreter imports before a program starts, so runs that differ only in them
# share one answer.
_NOT_READ_AT_START = ("NEXLA_", "_NEXLA_", "COMP_", "_TYPER_")
_NOT_READ_AT_START_NAMES = {"HOME", "XDG_CONFIG_HOME", "NO_COLOR"}
_start_modules: dict[frozenset, frozenset] = {}


def interpreter_start_modules(env) -> set:
    """What the interpreter imports before any program runs (site, .pth files…)."""
    key = frozenset(
        (name, value)
        for name, value in env.items()
        if not name.startswith(_NOT_READ_AT_START) and name not in _NOT_READ_AT_START_NAMES
    )
    if key not in _start_modules:
        result = subprocess.run(
            [sys.executable, "-c", "pass"],
            env=dict(env, PYTHONPROFILEIMPORTTIME="1"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        _start_modules[key] = frozenset(split_importtime(result.stderr)[0])
    return set(_start_modules[key])


def run_with_importtime(args, env, cwd) -> tuple:
    """Run the installed nexla; returns (CompletedProcess, modules, stderr without imports).

    The modules are those nexla imports beyond what `python -c pass` does in the same
    environment: site-packages .pth hooks (an editable install's finder) are not nexla's.
    """
    result = subprocess.run(
        [nexla_executable(), *args],
        env=dict(env, PYTHONPROFILEIMPORTTIME="1"),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    modules, rest = split_importtime(result.stderr)
    return result, modules - interpreter_start_modules(env), rest


@pytest.fixture
def platform_env(tmp_path):
    """A store found the way users have it: no NEXLA_CONFIG_DIR, platformdirs and XDG."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("NEXLA_", "_NEXLA_", "COMP_", "_TYPER_"))
    }
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "xdg"), NO_COLOR="1")
    return env


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
    assert "nexla_cli.fastpath" in modules
    assert not {"typer", "nexla_cli.cli", "nexla_cli.session"} & modules
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


COMPLETIONS = {
    "bash": {"COMP_WORDS": "nexla\nenv\n", "COMP_CWORD": "2"},
    "zsh": {"_TYPER_COMPLETE_ARGS": "nexla env "},
    "fish": {"_TYPER_COMPLETE_ARGS": "nexla env ", "_TYPER_COMPLETE_FISH_ACTION": "get-args"},
    "powershell": {"_TYPER_COMPLETE_ARGS": "nexla env", "_TYPER_COMPLETE_WORD_TO_COMPLETE": ""},
}
NAME_COMPLETIONS = {
    "bash": {"COMP_WORDS": "nexla\nenv\nuse\n", "COMP_CWORD": "3"},
    "zsh": {"_TYPER_COMPLETE_ARGS": "nexla env use "},
    "fish": {"_TYPER_COMPLETE_ARGS": "nexla env use ", "_TYPER_COMPLETE_FISH_ACTION": "get-args"},
    "powershell": {"_TYPER_COMPLETE_ARGS": "nexla env use", "_TYPER_COMPLETE_WORD_TO_COMPLETE": ""},
}


@pytest.mark.parametrize("shell", sorted(COMPLETIONS))
def test_tab_completion_loads_no_requests_rich_or_pydantic(shell, platform_env, tmp_path):
    # Subcommands complete through Typer. zsh, fish and PowerShell candidates carry help
    # texts, which Typer would render through rich.
    seed_store(tmp_path / "xdg" / "nexla", {"dataops.nexla.io": None}, "dataops.nexla.io")
    env = dict(platform_env, _NEXLA_COMPLETE=f"complete_{shell}", **COMPLETIONS[shell])

    result, modules, rest = run_with_importtime([], env, tmp_path)

    assert result.returncode == 0, rest
    expected = "use" if shell == "bash" else "Sign in again; which environment"
    assert expected in result.stdout
    assert "typer" in modules
    assert not HEAVY & top_level(modules), sorted(HEAVY & top_level(modules))


@pytest.mark.parametrize("shell", sorted(NAME_COMPLETIONS))
def test_tab_completion_of_names_loads_no_third_party_module_but_platformdirs(
    shell, platform_env, tmp_path
):
    # Environment names are answered by nexla_cli/fastcomplete.py, without Typer.
    seed_store(tmp_path / "xdg" / "nexla", {"dataops.nexla.io": None}, "dataops.nexla.io")
    env = dict(platform_env, _NEXLA_COMPLETE=f"complete_{shell}", **NAME_COMPLETIONS[shell])

    result, modules, rest = run_with_importtime([], env, tmp_path)

    assert (result.returncode, rest) == (0, "")
    assert "dataops.nexla.io" in result.stdout
    assert "nexla_cli.fastcomplete" in modules
    assert third_party(modules) == ALLOWED_THIRD_PARTY_FOR_TOKEN_PRINT
