"""The e2e tier of tests/app/test_byte_order_marks.py, whose docstring says what is promised:
the installed `nexla` reading a marked token and key through a real pipe, as PowerShell 5.1
(UTF-16) and Notepad (UTF-8 with a mark) hand them over."""

import codecs
import subprocess

import pytest

from tests.support.processes import nexla_executable
from tests.support.stores import stored_session

KEY = "svc-bom-key-2"


def _piped(nx, args, data: bytes) -> subprocess.CompletedProcess:
    return subprocess.run(
        [nexla_executable(), *args],
        input=data,  # through a pipe
        env=nx.env,
        cwd=nx.tmp_path,
        capture_output=True,
        timeout=60,
    )


def test_a_utf16_key_and_a_utf8_marked_token_through_a_pipe_are_taken(nx):
    nx.server.add_service_key(KEY)
    minted = _piped(
        nx,
        ["token", "from-key", "--env", nx.server.host],
        codecs.BOM_UTF16_LE + (KEY + "\r\n").encode("utf-16-le"),
    )
    assert minted.returncode == 0, minted.stderr
    assert nx.server.last("POST", "/token").authorization == f"Basic {KEY}"

    token = nx.server.issue_token()
    signed_in = _piped(
        nx,
        ["env", "login", "--env", nx.server.host, "--with-token"],
        codecs.BOM_UTF8 + (token + "\r\n").encode("utf-8"),
    )
    assert signed_in.returncode == 0, signed_in.stderr
    assert stored_session(nx)["access_token"] == token


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-8-sig"])
def test_a_marked_key_through_a_pipe_left_open_is_read_at_its_newline(nx, encoding):
    # docs/storage.md: a writer that keeps its end open after the key is never waited for.
    # In UTF-16 LE a newline is 0A 00: the line ends at the 00, not at the 0A.
    nx.server.add_service_key(KEY)
    mark = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}
    data = mark.get(encoding, b"") + (KEY + "\n").encode(encoding)
    child = subprocess.Popen(
        [nexla_executable(), "token", "from-key", "--env", nx.server.host],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=nx.env,
        cwd=nx.tmp_path,
    )
    try:
        assert child.stdin is not None
        child.stdin.write(data)
        child.stdin.flush()  # and the pipe stays open
        code = child.wait(timeout=20)
    finally:
        child.kill()
        child.communicate()
    assert code == 0
    assert nx.server.last("POST", "/token").authorization == f"Basic {KEY}"
