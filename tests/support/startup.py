"""What a fresh `nexla` process imports (PYTHONPROFILEIMPORTTIME=1), and stores seeded
straight as JSON (format 2) for such runs and for the fast paths' tests."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support.processes import nexla_executable

IMPORT_LINE_PREFIX = "import time:"


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


def platform_environment(home: Path) -> dict:
    """The variables of a run that finds its store the way users have it: no
    NEXLA_CONFIG_DIR, platformdirs and XDG under `home`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("NEXLA_", "_NEXLA_", "COMP_", "_TYPER_"))
    }
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "xdg"), NO_COLOR="1")
    return env


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


COMPLETIONS = {
    "bash": {"COMP_WORDS": "nexla\nenv\n", "COMP_CWORD": "2"},
    "zsh": {"_TYPER_COMPLETE_ARGS": "nexla env "},
    "fish": {"_TYPER_COMPLETE_ARGS": "nexla env ", "_TYPER_COMPLETE_FISH_ACTION": "get-args"},
    "powershell": {"_TYPER_COMPLETE_ARGS": "nexla env", "_TYPER_COMPLETE_WORD_TO_COMPLETE": ""},
}
