"""The e2e tier of tests/app/test_token_export.py, whose docstring says what is promised: the cases
that need a real `nexla` process (a terminal, signals, several processes, what a fresh
interpreter loads)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.auth import handoff
from nexla_cli.core import names
from tests.support.hostile_values import HOSTILE_PATH, HOSTILE_TOKEN
from tests.support.stores import edit_session

SHELLS = {
    # shell: (argv to run a script given with -c, how to evaluate the export, format); the
    # evaluation as docs/scripting.md shows it, with {} for the command that prints it.
    "bash": (["bash", "-c"], 'eval "$({})"', "sh"),
    "zsh": (["zsh", "-c"], 'eval "$({})"', "sh"),
    "sh": (["sh", "-c"], 'eval "$({})"', "sh"),
    "fish": (["fish", "-c"], "{} | source", "fish"),
    "pwsh": (
        ["pwsh", "-NoProfile", "-Command"],
        "{} | Out-String | Invoke-Expression",
        "powershell",
    ),
}
VARIABLES = ("NEXLA_API_URL", "NEXLA_ACCESS_TOKEN", "NEXLA_ENV")


def _shell_env(nx) -> dict:
    env = nx.env_with(LC_ALL="C.UTF-8")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def _needs(shell: str) -> None:
    if shutil.which(SHELLS[shell][0][0]) is None:
        pytest.skip(f"{shell} is not installed")


def _print_variables(shell: str) -> str:
    if shell == "pwsh":
        return "; ".join(f"[Console]::Out.Write($env:{name} + [char]0)" for name in VARIABLES)
    quoted = " ".join(f'"${name}"' for name in VARIABLES)
    return f"printf '%s\\0' {quoted}"


def _export_command(shell: str) -> str:
    fmt = SHELLS[shell][2]
    return "nexla token export" + ("" if fmt == "sh" else f" --format {fmt}")


def _evaluated(nx, shell: str, printed_by: str | None = None) -> list[str]:
    """The variables' values once `shell` has evaluated what `printed_by` (default: a real
    `nexla token export` the shell runs) printed, the way the docs show."""
    argv, evaluate, _ = SHELLS[shell]
    evaluate = evaluate.format(printed_by or _export_command(shell))
    result = subprocess.run(
        [*argv, f"{evaluate}; {_print_variables(shell)}"],
        env=_shell_env(nx),
        cwd=nx.tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout.decode("utf-8").split("\0")[:-1]


# nexla run by a real shell
@pytest.mark.parametrize("shell", list(SHELLS))
def test_each_shell_gets_the_variables_back(nx, shell):
    _needs(shell)
    token = nx.sign_in()
    nx.server.clear_log()
    assert _evaluated(nx, shell) == [nx.server.api_url, token, nx.server.host]
    assert nx.server.count() == 0  # a fresh token is exported as it is


@pytest.mark.parametrize("shell", list(SHELLS))
def test_hostile_but_valid_values_survive_every_shell(nx, shell):
    # The export is handed to the real shell from a file: what is tested is the shell
    # reading it (a real `nexla` run by each shell: the test above).
    _needs(shell)
    api_url = f"https://{nx.server.host}{HOSTILE_PATH}"
    assert names.normalize_api_url(api_url) == api_url  # the URL is one the tool accepts
    nx.sign_in(None, "--api-url", api_url, "--no-verify")
    edit_session(nx, access_token=HOSTILE_TOKEN, expires_at=int(time.time()) + 3000)
    exported = nx.ok("token", "export", "--format", SHELLS[shell][2], env=_shell_env(nx))
    (nx.tmp_path / "exported").write_text(exported.stdout, encoding="utf-8")
    values = _evaluated(nx, shell, printed_by="cat exported")
    assert values == [api_url, HOSTILE_TOKEN, nx.server.host]
    assert not any(nx.tmp_path.glob("PWNED*")), "a value was run as a command"


# The quoting itself, against the real shells, over everything a value may hold ---------------

_VALUE = st.text(
    st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")),
    min_size=1,
    max_size=40,
).filter(lambda value: value.isprintable() and not any(ch.isspace() for ch in value))

_QUOTERS = {
    "bash": (handoff.quote_sh, lambda n, q: f"export {n}={q}", ["bash", "-c"]),
    "zsh": (handoff.quote_sh, lambda n, q: f"export {n}={q}", ["zsh", "-c"]),
    "sh": (handoff.quote_sh, lambda n, q: f"export {n}={q}", ["sh", "-c"]),
    "fish": (handoff.quote_fish, lambda n, q: f"set -gx {n} {q};", ["fish", "-c"]),
}


@pytest.mark.parametrize("shell", list(_QUOTERS))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(_VALUE, min_size=1, max_size=12))
def test_quoting_round_trips_through_the_real_shell(tmp_path_factory, shell, values):
    quote, assign, argv = _QUOTERS[shell]
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{shell} is not installed")
    cwd = tmp_path_factory.mktemp("quote")
    lines = [assign(f"V{i}", quote(value)) for i, value in enumerate(values)]
    names_ = " ".join(f'"$V{i}"' for i in range(len(values)))
    script = "\n".join(lines) + f"\nprintf '%s\\0' {names_}\n"
    result = subprocess.run(
        [*argv, script],
        env={"PATH": os.environ["PATH"], "LC_ALL": "C.UTF-8", "HOME": str(cwd)},
        cwd=cwd,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode("utf-8").split("\0")[:-1] == values
