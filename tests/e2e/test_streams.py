"""Output streams and text from outside (docs/storage.md, "Output streams").

- stdout of `token print` and `--print` holds the token alone, even when stderr is closed or
  cannot be written: a warning that cannot go to stderr is dropped, the exit code unchanged.
- A closed stdout, an encoding that cannot hold a user's name, a lone surrogate from a
  server, no home directory: a clean outcome, never exit 1.
- Text from a server is shown with control characters escaped; TERM=dumb gets no escape
  sequences.
"""

from __future__ import annotations

import os
import pwd
import shlex
import subprocess

import pexpect
import pytest

from tests.conftest import nexla_executable
from tests.fake_nexla import Fault
from tests.inprocess import run_in_process
from tests.outcomes import describe
from tests.signing_in import seed
from tests.test_env_interactive import close_ended

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


@pytest.mark.e2e  # stderr closed or /dev/full
@pytest.mark.parametrize("redirect", ["2>&-", "2>/dev/full"])
def test_a_warning_that_cannot_go_to_stderr_never_reaches_stdout_fast_path(nx, redirect):
    token = seed(nx)
    (nx.config_dir / "credentials.json").chmod(0o644)  # draws a warning
    result = shell(nx, f"nexla token print {redirect}")
    assert (result.returncode, result.stdout) == (0, token + "\n"), describe(result)


@pytest.mark.e2e  # stderr closed or /dev/full
@pytest.mark.parametrize("redirect", ["2>&-", "2>/dev/full"])
def test_a_failed_refresh_warning_never_reaches_stdout(nx, redirect):
    token = seed(nx, lifetime=3600, age=3500)  # due, still valid
    nx.server.add_fault("POST", "/token/refresh", Fault.status(500), times=None)
    result = shell(nx, f"nexla token print {redirect}")
    assert (result.returncode, result.stdout) == (0, token + "\n"), describe(result)
    assert nx.server.count("POST", "/token/refresh") >= 1  # the warning was due


@pytest.mark.e2e  # stderr closed
def test_token_refresh_print_keeps_stdout_clean_with_stderr_closed(nx):
    seed(nx)
    result = shell(nx, "nexla token refresh --print 2>&-")
    assert result.returncode == 0, describe(result)
    assert result.stdout == nx.server.issued[-1] + "\n"


@pytest.mark.e2e  # stdout closed
@pytest.mark.parametrize("command", ["token print", "env list"])
def test_a_closed_stdout_is_a_clean_error(nx, command):
    seed(nx)
    result = shell(nx, f"nexla {command} >&-")
    assert result.returncode == CONFIG, describe(result)
    assert result.stderr.startswith("error: ") and "stdout" in result.stderr
    assert "Traceback" not in result.stderr


# ---- encodings ----------------------------------------------------------------------------

USERS = {
    "CJK": {"id": 1, "email": "yamada@example.com", "full_name": "山田 太郎"},
    "accents": {"id": 2, "email": "zoe@example.com", "full_name": "Zoë Ünal"},
    "surrogate": {"id": 3, "email": "bad@example.com", "full_name": "bad \ud800 name"},
}
ENCODINGS = {
    "latin-1": {"PYTHONIOENCODING": "latin-1"},
    "ascii": {"PYTHONIOENCODING": "ascii"},
    "C locale": {"LC_ALL": "C", "PYTHONUTF8": "0", "LANG": "C"},
    "utf-8": {"PYTHONIOENCODING": "utf-8"},
}


def run_in(nx, encoding: str, *args, input: str | None = None) -> subprocess.CompletedProcess:
    """`nexla ARGS` with the variables of `encoding`; output decoded as that encoding.

    PYTHONIOENCODING only names the codec of the streams, so the app runs in this process
    with streams of that codec, as the interpreter would make them (stderr, as Python's own,
    with backslashreplace). The C locale is the interpreter's decision at start-up: that one
    runs the installed `nexla`.
    """
    variables = ENCODINGS[encoding]
    codec = variables.get("PYTHONIOENCODING")
    if codec is None:
        return _run_installed_in(nx, variables, "ascii", args, input)
    return run_in_process(list(args), env=nx.env_with(**variables), input=input, cwd=nx.tmp_path)


def _run_installed_in(nx, variables: dict, codec: str, args, input) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [nexla_executable(), *args],
        env=nx.env_with(**variables),
        cwd=nx.tmp_path,
        input=None if input is None else input.encode(),
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        timeout=60,
    )
    result.stdout = result.stdout.decode(codec, "replace")
    result.stderr = result.stderr.decode(codec, "replace")
    return result


def _encoding_cases():
    """Every name in every encoding; the C locale (a real process: e2e) with one name beyond
    ASCII and the surrogate, as its ASCII streams treat accents and CJK alike."""
    for user in sorted(USERS):
        for encoding, variables in sorted(ENCODINGS.items()):
            if "PYTHONIOENCODING" in variables:
                yield pytest.param(user, encoding, id=f"{user}-{encoding}")
            elif user != "accents":
                yield pytest.param(user, encoding, id=f"{user}-{encoding}", marks=pytest.mark.e2e)


@pytest.mark.parametrize(("user", "encoding"), list(_encoding_cases()))
def test_names_any_encoding_cannot_hold_are_written_with_escapes(nx, user, encoding):
    token = nx.server.issue_token(user=USERS[user])
    signed_in = run_in(
        nx, encoding, "env", "configure", nx.server.host, "--with-token", input=token
    )
    assert signed_in.returncode == 0, describe(signed_in)
    for args in (("env", "list"), ("token", "status"), ("env", "show"), ("env", "list", "--json")):
        result = run_in(nx, encoding, *args)
        assert result.returncode == 0, describe(result)
        assert USERS[user]["email"] in result.stdout
    if user == "surrogate":
        shown = nx.run("env", "show", env=nx.env_with(PYTHONIOENCODING="utf-8")).stdout
        assert "bad \ufffd name" in shown


# ---- control characters from a server -----------------------------------------------------

HOSTILE_USER = {"id": 9, "email": "x@example.com", "full_name": "Eve\x1b]0;PWNED\x07\x1b[2J"}
HOSTILE_ORG = {"id": 8, "name": "Org\nerror: forged line\x9b31m"}


def test_names_from_a_server_cannot_move_the_cursor_or_forge_a_line(nx):
    token = nx.server.issue_token(user=HOSTILE_USER, org=HOSTILE_ORG)
    results = [nx.run("env", "configure", nx.server.host, "--with-token", input=token)]
    for args in (("env", "list"), ("token", "status"), ("env", "show")):
        results.append(nx.run(*args))
    for result in results:
        assert result.returncode == 0, describe(result)
        both = result.stdout + result.stderr
        assert "\x1b" not in both and "\x07" not in both and "\x9b" not in both, describe(result)
        assert not any(line.startswith("error:") for line in both.splitlines()), describe(result)
        assert "\\x1b]0;PWNED\\x07" in both and "Org\\nerror: forged line" in both


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


@pytest.mark.e2e  # a real terminal
def test_term_dumb_gets_no_escape_sequences(nx):
    seed(nx)
    assert "\x1b[" in _on_a_terminal(nx, "xterm")  # colour where a terminal understands it
    plain = _on_a_terminal(nx, "dumb")
    assert "\x1b" not in plain and "error: unknown environment" in plain


# ---- where the configuration lives ---------------------------------------------------------


def test_no_home_directory_is_a_config_error(tmp_path, monkeypatch, capsys):
    """HOME unset under a uid with no passwd entry (as in some containers). Running as such a
    uid needs root and an interpreter it may read, so the lookup is made to fail instead."""

    def no_entry(uid):
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    for name in [n for n in os.environ if n.startswith("NEXLA_")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    monkeypatch.chdir(tmp_path)
    environ = {
        name: value
        for name, value in os.environ.items()
        if name not in ("HOME", "XDG_CONFIG_HOME") and not name.startswith("NEXLA_")
    }
    captured = run_in_process(["env", "list"], env=environ, cwd=tmp_path)
    assert captured.returncode == CONFIG
    assert captured.stderr.startswith("error: ") and "NEXLA_CONFIG_DIR" in captured.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written relative to the working directory


def test_a_config_dir_under_an_unknown_user_is_a_config_error(nx):
    result = nx.run("env", "list", env=nx.env_with(NEXLA_CONFIG_DIR="~nosuchuser-x/nexla"))
    assert result.returncode == CONFIG, describe(result)
    assert result.stderr.startswith("error: ") and "~nosuchuser-x" in result.stderr
