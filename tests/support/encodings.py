"""Names in every output encoding: the cases, and the check each tier runs on its share."""

from __future__ import annotations

import subprocess

import pytest

from tests.support.inprocess import run_in_process
from tests.support.outcomes import describe
from tests.support.processes import nexla_executable

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


def encoding_cases(*, real_process: bool) -> list:
    """Every name in every encoding PYTHONIOENCODING names (in-process), or the C locale (a
    real process) with one name beyond ASCII and the surrogate, as its ASCII streams treat
    accents and CJK alike."""
    return [
        pytest.param(user, encoding, id=f"{user}-{encoding}")
        for user in sorted(USERS)
        for encoding, variables in sorted(ENCODINGS.items())
        if ("PYTHONIOENCODING" not in variables) == real_process
        and not (real_process and user == "accents")
    ]


def assert_names_written_with_escapes(nx, user: str, encoding: str) -> None:
    """Signed in as USERS[user], every command that shows the name runs cleanly in `encoding`
    and says who is signed in; a lone surrogate shows as U+FFFD."""
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
