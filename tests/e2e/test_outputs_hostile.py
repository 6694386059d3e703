"""Streams that cannot be written (docs/storage.md, "Output streams"; README, exit codes).

- A stdout that cannot be written (`> /dev/full`) is exit 3, `error: cannot write the
  result …`, for `nexla api` as for every other command.
- A reader that leaves early (EPIPE on stdout: `| head -c 5`) ends `nexla` quietly with exit
  141, as if by SIGPIPE, for every command that writes stdout: never exit 1 (a bug).
- A message that cannot go to stderr (`2>/dev/full`, a stderr opened read-only) is dropped
  and never changes the exit code: `token print` and `token refresh --print` exit 0 with the
  token alone on stdout.

The exit code of a real process is what matters here (what the interpreter does with a
stream it cannot flush at exit), so these run the installed `nexla` (e2e).
"""

from __future__ import annotations

import os
import shlex
import subprocess

import pytest

from tests.support.fake_nexla import Fault
from tests.support.outcomes import describe
from tests.support.processes import nexla_executable
from tests.support.signing_in import seed

pytestmark = pytest.mark.e2e  # real streams, real exit codes

CONFIG = 3
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a reader that left


def _shell(nx, command: str) -> subprocess.CompletedProcess:
    """`nexla` under sh, for redirections subprocess cannot express."""
    line = command.replace("nexla", shlex.quote(nexla_executable()), 1)
    return subprocess.run(
        ["sh", "-c", line],
        env=nx.env,
        cwd=nx.tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _with_a_reader_gone(nx, *args: str, env=None) -> subprocess.CompletedProcess:
    """`nexla ARGS` whose stdout is a pipe nobody reads any more: every write is EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [nexla_executable(), *args],
            env=env or nx.env,
            cwd=nx.tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)


# ---- a full stdout ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    ["api /users/current", "api /users/current --include", "api /data_sources --paginate"],
)
def test_api_to_a_full_stdout_is_exit_3(nx, command):
    seed(nx)
    result = _shell(nx, f"nexla {command} > /dev/full")
    assert result.returncode == CONFIG, describe(result)
    assert result.stderr.startswith("error: cannot write the result"), describe(result)
    assert len(result.stderr.splitlines()) == 1, describe(result)


@pytest.mark.parametrize(
    "command", ["token print", "env list", "token status --json", "help", "--help", "env --help"]
)
def test_other_commands_to_a_full_stdout_are_exit_3(nx, command):
    seed(nx)
    result = _shell(nx, f"nexla {command} > /dev/full")
    assert result.returncode == CONFIG, describe(result)
    assert result.stderr.startswith("error: cannot write the result"), describe(result)


# ---- a reader that leaves early -----------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("api", "/users/current"),
        ("api", "/data_sources", "--paginate"),
        ("env", "list"),
        ("env", "list", "--json"),
        ("token", "print"),
        ("token", "refresh", "--print"),
        ("token", "status", "--json"),
        ("token", "export"),
        ("help",),
        ("--version",),
        ("--help",),
        ("env", "list", "--help"),
    ],
)
def test_a_reader_that_left_ends_nexla_quietly_with_141(nx, args):
    seed(nx)
    result = _with_a_reader_gone(nx, *args)
    assert result.returncode == EXIT_BROKEN_PIPE, describe(result)
    # Quietly: no error, no `Exception ignored` from the interpreter (`token refresh` still
    # says what it did).
    assert not [
        line for line in result.stderr.splitlines() if not line.startswith("Refreshed the ")
    ], describe(result)


def test_head_reading_part_of_an_api_body(nx):
    # The pipe of the report, `nexla api … | head -c 5`, with a body (1 MiB) longer than a
    # pipe holds: head leaves while nexla is still writing.
    seed(nx)
    nx.server.add_fault("GET", "/teams", Fault.huge(1024 * 1024, prefix=b"["))
    line = f"{shlex.quote(nexla_executable())} api /teams"
    result = subprocess.run(
        ["bash", "-c", f"{line} | head -c 5; echo \" ${{PIPESTATUS[0]}}\""],
        env=nx.env,
        cwd=nx.tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.endswith(f" {EXIT_BROKEN_PIPE}\n"), describe(result)
    assert result.stderr == "", describe(result)


# ---- a stderr that cannot be written ------------------------------------------------------


@pytest.mark.parametrize("redirect", ["2>/dev/full", "2</dev/null"])
def test_token_refresh_print_with_an_unwritable_stderr_is_exit_0(nx, redirect):
    seed(nx)
    result = _shell(nx, f"nexla token refresh --print {redirect}")
    assert (result.returncode, result.stdout) == (0, nx.server.issued[-1] + "\n"), describe(result)


@pytest.mark.parametrize("redirect", ["2>/dev/full", "2</dev/null"])
def test_token_print_with_a_warning_and_an_unwritable_stderr_is_exit_0(nx, redirect):
    token = seed(nx)
    (nx.config_dir / "credentials.json").chmod(0o644)  # draws a warning
    result = _shell(nx, f"nexla token print {redirect}")
    assert (result.returncode, result.stdout) == (0, token + "\n"), describe(result)


@pytest.mark.parametrize("redirect", ["2>/dev/full", "2</dev/null"])
def test_a_failing_command_with_an_unwritable_stderr_keeps_its_exit_code(nx, redirect):
    result = _shell(nx, f"nexla token print --env nosuch.example.com {redirect}")
    assert (result.returncode, result.stdout) == (CONFIG, ""), describe(result)


# ---- the completion script (README: `_NEXLA_COMPLETE=source_SHELL nexla`) ------------------


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_script_to_a_full_stdout_is_exit_3(nx, shell):
    result = _shell(nx, f"_NEXLA_COMPLETE=source_{shell} nexla > /dev/full")
    assert result.returncode == CONFIG, describe(result)
    assert result.stderr.startswith("error: cannot write the result"), describe(result)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_script_to_a_reader_gone_is_exit_141(nx, shell):
    result = _with_a_reader_gone(nx, env=nx.env_with(_NEXLA_COMPLETE=f"source_{shell}"))
    assert (result.returncode, result.stderr) == (EXIT_BROKEN_PIPE, ""), describe(result)
