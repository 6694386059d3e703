"""`nexla api --include` (docs/network.md, "Bodies"): the status line and headers, piped as
the bytes the server sent, and on a terminal with control characters and bytes that are not
UTF-8 escaped, like any text from a server."""

from __future__ import annotations

from tests.support.fake_nexla import Fault
from tests.support.inprocess import run_in_process

# One character a byte on the wire (http.server writes Latin-1): "é" in UTF-8, an OSC that
# would retitle the window, a byte that is not UTF-8.
HEADER = "caf\xc3\xa9 \x1b]0;owned\x07 \xff"


def _include(nx, *, terminal: bool):
    nx.sign_in()
    nx.server.add_fault("GET", "/teams", Fault.status(200, {"a": 1}, headers={"X-Odd": HEADER}))
    return run_in_process(
        ["api", "/teams", "--include"],
        env=nx.env_with(NO_COLOR="1"),
        stdout_tty=terminal,
        text=False,
    )


def test_piped_headers_are_the_bytes_the_server_sent(nx):
    result = _include(nx, terminal=False)
    assert result.returncode == 0, result.stderr
    assert b"\nX-Odd: caf\xc3\xa9 \x1b]0;owned\x07 \xff\n" in result.stdout
    assert result.stdout.endswith(b'\n\n{"a": 1}')


def test_on_a_terminal_headers_are_escaped(nx):
    result = _include(nx, terminal=True)
    assert result.returncode == 0, result.stderr
    shown = result.stdout.decode("utf-8")
    assert "\nX-Odd: café \\x1b]0;owned\\x07 \\xff\n" in shown
    assert "\x1b" not in shown and "\x07" not in shown
    assert shown.startswith("HTTP/1.1 200 ") and "\n\n{" in shown
