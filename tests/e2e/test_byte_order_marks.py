"""The e2e tier of tests/app/test_byte_order_marks.py, whose docstring says what is promised:
the installed `nexla` reading a marked token and key through a real pipe, as PowerShell 5.1
(UTF-16) and Notepad (UTF-8 with a mark) hand them over."""

import codecs
import subprocess

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
