"""The e2e tier of tests/app/test_streams.py, whose docstring says what is promised: the cases that
need a real `nexla` process (a terminal, signals, several processes, what a fresh interpreter
loads)."""

from __future__ import annotations

import shlex
import subprocess

import pexpect
import pytest

from tests.support.encodings import assert_names_written_with_escapes, encoding_cases
from tests.support.fake_nexla import Fault
from tests.support.outcomes import describe
from tests.support.processes import nexla_executable
from tests.support.signing_in import seed
from tests.support.terminals import close_ended

CONFIG = 3


def shell(nx, command: str, env=None) -> subprocess.CompletedProcess:
    """`nexla` under sh, for redirections subprocess cannot express (`2>&-`, `>&-`)."""
    line = command.replace("nexla", shlex.quote(nexla_executable()), 1)
    return subprocess.run(
        ["sh", "-c", line],
        env=env or nx.env,
        cwd=nx.tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


# ---- stdout holds the token alone ---------------------------------------------------------


# stderr closed or /dev/full
@pytest.mark.parametrize("redirect", ["2>&-", "2>/dev/full"])
def test_a_warning_that_cannot_go_to_stderr_never_reaches_stdout_fast_path(nx, redirect):
    token = seed(nx)
    (nx.config_dir / "credentials.json").chmod(0o644)  # draws a warning
    result = shell(nx, f"nexla token print {redirect}")
    assert (result.returncode, result.stdout) == (0, token + "\n"), describe(result)


# stderr closed or /dev/full
@pytest.mark.parametrize("redirect", ["2>&-", "2>/dev/full"])
def test_a_failed_refresh_warning_never_reaches_stdout(nx, redirect):
    token = seed(nx, lifetime=3600, age=3500)  # due, still valid
    nx.server.add_fault("POST", "/token/refresh", Fault.status(500), times=None)
    result = shell(nx, f"nexla token print {redirect}")
    assert (result.returncode, result.stdout) == (0, token + "\n"), describe(result)
    assert nx.server.count("POST", "/token/refresh") >= 1  # the warning was due


# stderr closed
def test_token_refresh_print_keeps_stdout_clean_with_stderr_closed(nx):
    seed(nx)
    result = shell(nx, "nexla token refresh --print 2>&-")
    assert result.returncode == 0, describe(result)
    assert result.stdout == nx.server.issued[-1] + "\n"


# stdout closed
@pytest.mark.parametrize("command", ["token print", "env list"])
def test_a_closed_stdout_is_a_clean_error(nx, command):
    seed(nx)
    result = shell(nx, f"nexla {command} >&-")
    assert result.returncode == CONFIG, describe(result)
    assert result.stderr.startswith("error: ") and "stdout" in result.stderr
    assert "Traceback" not in result.stderr


# ---- colour ---------------------------------------------------------------------------------


def _on_a_terminal(nx, term: str) -> str:
    env = nx.env_with(TERM=term, NO_COLOR=None)
    child = pexpect.spawn(
        nexla_executable(),
        ["env", "use", "nowhere.example"],
        env=env,
        cwd=str(nx.tmp_path),
        encoding="utf-8",
        timeout=60,
    )
    text = child.read()  # to EOF
    close_ended(child)
    assert child.exitstatus == CONFIG, text
    return text


# a real terminal
def test_term_dumb_gets_no_escape_sequences(nx):
    seed(nx)
    assert "\x1b[" in _on_a_terminal(nx, "xterm")  # colour where a terminal understands it
    plain = _on_a_terminal(nx, "dumb")
    assert "\x1b" not in plain and "error: unknown environment" in plain


# ---- encodings ----------------------------------------------------------------------------


# The C locale is the interpreter's decision at start-up: only a real process has it.
@pytest.mark.parametrize(("user", "encoding"), encoding_cases(real_process=True))
def test_names_any_encoding_cannot_hold_are_written_with_escapes(nx, user, encoding):
    assert_names_written_with_escapes(nx, user, encoding)
