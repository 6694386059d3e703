"""A token or service key saved with a byte-order mark is read as text (docs/signing-in.md,
"Without a browser"): UTF-8 with a mark (Notepad, PowerShell 5.1's `Set-Content`) and UTF-16
with one (PowerShell 5.1's `>`), on stdin, in `--key-file`, and a leading U+FEFF in
`$NEXLA_SERVICE_KEY`. Each goes through the whole command to the server unchanged."""

from __future__ import annotations

import codecs

import pytest

from tests.support.inprocess import run_in_process
from tests.support.outcomes import describe
from tests.support.stores import stored_session

KEY = "svc-bom-key-1"
ENCODINGS = {
    "utf-8-bom": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-16-le-bom": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-16-be-bom": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
}


def _run(nx, *args, stdin: bytes | None, env=None):
    return run_in_process(list(args), env=env or nx.env, input=stdin, cwd=nx.tmp_path)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("command", ["configure", "login"])
def test_a_token_on_stdin_with_a_byte_order_mark_is_taken(nx, encoding, command):
    if command == "login":
        nx.sign_in()
    token = nx.server.issue_token()
    args = (
        ("env", "configure", nx.server.host, "--with-token")
        if command == "configure"
        else ("env", "login", "--env", nx.server.host, "--with-token")
    )
    result = _run(nx, *args, stdin=ENCODINGS[encoding](token + "\r\n"))
    assert result.returncode == 0, describe(result)
    assert nx.server.last("GET", "/users/current").authorization == f"Bearer {token}"
    assert stored_session(nx)["access_token"] == token


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("how", ["stdin", "key-file -", "key-file"])
def test_a_service_key_with_a_byte_order_mark_is_taken(nx, encoding, how):
    nx.server.add_service_key(KEY)
    data = ENCODINGS[encoding](KEY + "\r\n")
    args = ["token", "from-key", "--env", nx.server.host]
    if how == "key-file":
        path = nx.tmp_path / "key.txt"
        path.write_bytes(data)  # as PowerShell 5.1 or Notepad saved it
        args += ["--key-file", str(path)]
        data = None
    elif how == "key-file -":
        args += ["--key-file", "-"]
    result = _run(nx, *args, stdin=data)
    assert result.returncode == 0, describe(result)
    assert nx.server.last("POST", "/token").authorization == f"Basic {KEY}"


def test_a_service_key_variable_starting_with_a_byte_order_mark_is_taken(nx):
    # A variable cannot hold UTF-16, but one set from a file read with its mark starts
    # with U+FEFF.
    nx.server.add_service_key(KEY)
    env = nx.env_with(NEXLA_SERVICE_KEY="\ufeff" + KEY)
    result = _run(nx, "token", "from-key", "--env", nx.server.host, stdin=None, env=env)
    assert result.returncode == 0, describe(result)
    assert nx.server.last("POST", "/token").authorization == f"Basic {KEY}"


def test_a_mark_anywhere_but_at_the_start_is_still_refused(nx):
    nx.server.add_service_key(KEY)
    data = (KEY[:4] + "\ufeff" + KEY[4:] + "\n").encode("utf-8")
    result = _run(nx, "token", "from-key", "--env", nx.server.host, stdin=data)
    assert result.returncode == 2, describe(result)
    assert nx.server.count() == 0
