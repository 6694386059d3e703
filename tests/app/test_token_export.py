"""`nexla token export` (docs/scripting.md): the variables, quoted so that each shell named
gets back exactly the values, whatever characters an API URL or a token may hold."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli import handoff, names
from tests.outcomes import describe
from tests.stores import edit_session, set_times, stored_session

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

# After normalisation an API URL's path may hold any printable character but spaces, `?` and
# `#`; a token any printable ASCII character but the space. These are the worst of them.
# Commands without spaces (none is allowed): each would leave a file behind if it ran.
HOSTILE_PATH = "/nexla-api/it's$HOME`>PWNED1`\"\\;>PWNED2|&*!{}\u2019\u00e9%(x)<y>~^[]$(>PWNED3)"
HOSTILE_TOKEN = "tok'\"$(>PWNED4)`>PWNED5`\\;>PWNED6|&*!{}~%^[]<>=#,"


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


@pytest.mark.e2e  # nexla run by a real shell
@pytest.mark.parametrize("shell", list(SHELLS))
def test_each_shell_gets_the_variables_back(nx, shell):
    _needs(shell)
    token = nx.sign_in()
    nx.server.clear_log()
    assert _evaluated(nx, shell) == [nx.server.api_url, token, nx.server.host]
    assert nx.server.count() == 0  # a fresh token is exported as it is


@pytest.mark.parametrize("shell", list(SHELLS))
def test_hostile_but_valid_values_survive_every_shell(nx, shell):
    # The export is made in-process and handed to the real shell from a file: what is
    # tested is the shell reading it (a real `nexla` run by each shell: the test above).
    _needs(shell)
    api_url = f"https://{nx.server.host}{HOSTILE_PATH}"
    assert names.normalize_api_url(api_url) == api_url  # the URL is one the tool accepts
    nx.sign_in(None, "--api-url", api_url, "--no-verify")
    edit_session(nx, access_token=HOSTILE_TOKEN, expires_at=int(time.time()) + 3000)
    exported = nx.run("token", "export", "--format", SHELLS[shell][2], env=_shell_env(nx))
    assert exported.returncode == 0, describe(exported)
    (nx.tmp_path / "exported").write_text(exported.stdout, encoding="utf-8")
    values = _evaluated(nx, shell, printed_by="cat exported")
    assert values == [api_url, HOSTILE_TOKEN, nx.server.host]
    assert not any(nx.tmp_path.glob("PWNED*")), "a value was run as a command"


def test_dotenv_is_read_back_by_python_dotenv(nx):
    dotenv = pytest.importorskip("dotenv")
    api_url = f"https://{nx.server.host}{HOSTILE_PATH}"
    nx.sign_in(None, "--api-url", api_url, "--no-verify")
    edit_session(nx, access_token=HOSTILE_TOKEN, expires_at=int(time.time()) + 3000)
    result = nx.run("token", "export", "--format", "dotenv")
    assert result.returncode == 0, describe(result)
    values = dotenv.dotenv_values(stream=io.StringIO(result.stdout), interpolate=True)
    assert dict(values) == {
        "NEXLA_API_URL": api_url,
        "NEXLA_ACCESS_TOKEN": HOSTILE_TOKEN,
        "NEXLA_ENV": nx.server.host,
    }


def test_dotenv_of_an_ordinary_session_needs_no_quotes(nx):
    token = nx.sign_in()
    result = nx.run("token", "export", "--format", "dotenv")
    assert result.stdout == (
        f"NEXLA_API_URL={nx.server.api_url}\nNEXLA_ACCESS_TOKEN={token}\n"
        f"NEXLA_ENV={nx.server.host}\n"
    )


def test_json_adds_expires_at(nx):
    token = nx.sign_in()
    result = nx.run("token", "export", "--format", "json")
    assert result.returncode == 0, describe(result)
    data = json.loads(result.stdout)
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stored_session(nx)["expires_at"]))
    assert data == {
        "NEXLA_API_URL": nx.server.api_url,
        "NEXLA_ACCESS_TOKEN": token,
        "NEXLA_ENV": nx.server.host,
        "expires_at": expires,
    }


def test_powershell_doubles_every_kind_of_single_quote():
    # pwsh is not installed everywhere; this is its quoting rule for verbatim strings.
    assert handoff.quote_powershell("a'b\u2019c$d`e") == "'a''b\u2019\u2019c$d`e'"
    assert handoff.quote_fish("a'b\\c$d") == "'a\\'b\\\\c$d'"
    assert handoff.quote_sh("a'b") == "'a'\\''b'"


def test_due_token_is_refreshed_first(nx):
    old = nx.sign_in()
    set_times(nx, lifetime=3600, left=100, source="refreshed", expires_estimated=False)
    nx.server.clear_log()
    result = nx.run("token", "export", "--format", "json")
    assert result.returncode == 0, describe(result)
    new = nx.server.issued[-1]
    assert json.loads(result.stdout)["NEXLA_ACCESS_TOKEN"] == new != old
    assert nx.server.count() == 1 and nx.server.count("POST", "/token/refresh") == 1


def test_min_ttl_renews_a_token_with_too_little_life(nx):
    nx.sign_in()
    set_times(nx, lifetime=3600, left=1000, source="refreshed", expires_estimated=False)
    nx.server.clear_log()
    enough = nx.run("token", "export", "--min-ttl", "600")
    assert enough.returncode == 0 and nx.server.count() == 0
    more = nx.run("token", "export", "--format", "json", "--min-ttl", "1800")
    assert more.returncode == 0, describe(more)
    assert nx.server.count() == 1
    assert json.loads(more.stdout)["NEXLA_ACCESS_TOKEN"] == nx.server.issued[-1]


def test_access_token_variable_is_exported_as_it_is(nx):
    nx.sign_in()
    env = nx.env_with(NEXLA_ACCESS_TOKEN="tok-from-variable")
    result = nx.run("token", "export", "--format", "json", env=env)
    data = json.loads(result.stdout)
    assert data["NEXLA_ACCESS_TOKEN"] == "tok-from-variable"
    assert data["NEXLA_ENV"] == nx.server.host and data["expires_at"] is None


def test_access_token_variable_without_an_environment_needs_the_api_url(nx):
    env = nx.env_with(NEXLA_ACCESS_TOKEN="tok-from-variable")
    result = nx.run("token", "export", env=env)
    assert result.returncode == 3 and "NEXLA_API_URL" in result.stderr, describe(result)
    env["NEXLA_API_URL"] = nx.server.api_url
    result = nx.run("token", "export", env=env)
    assert result.returncode == 0, describe(result)
    assert result.stdout == (
        f"export NEXLA_API_URL='{nx.server.api_url}'\n"
        "export NEXLA_ACCESS_TOKEN='tok-from-variable'\n"
    )


def test_service_key_in_the_environment_draws_a_warning(nx):
    nx.sign_in()
    result = nx.run("token", "export", env=nx.env_with(NEXLA_SERVICE_KEY="svc-key"))
    assert result.returncode == 0
    assert "svc-key" not in result.stdout + result.stderr
    assert "NEXLA_SERVICE_KEY is set" in result.stderr


def test_not_signed_in_is_exit_3_or_4_and_prints_nothing(nx):
    result = nx.run("token", "export")
    assert result.returncode == 3 and result.stdout == "", describe(result)
    nx.sign_in()
    nx.run("env", "logout")
    result = nx.run("token", "export")
    assert result.returncode == 4 and result.stdout == "", describe(result)


def test_bad_format_is_a_usage_error(nx):
    nx.sign_in()
    result = nx.run("token", "export", "--format", "csh")
    assert result.returncode == 2 and result.stdout == ""


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


@settings(max_examples=60, deadline=None)
@given(values=st.lists(_VALUE, min_size=1, max_size=12))
def test_dotenv_quoting_round_trips_through_python_dotenv(values):
    dotenv = pytest.importorskip("dotenv")
    text = "".join(f"V{i}={handoff.quote_dotenv(value)}\n" for i, value in enumerate(values))
    read = dotenv.dotenv_values(stream=io.StringIO(text), interpolate=True)
    assert [read[f"V{i}"] for i in range(len(values))] == values
