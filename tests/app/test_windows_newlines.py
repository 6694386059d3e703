"""Results end with "\\n", not "\\r\\n", on Windows too (docs/portability.md), where a text-mode
stdout turns every "\\n" into "\\r\\n" and Git Bash keeps the "\\r" in `$(nexla token print)`.

Windows' stdout is stood in for by a TextIOWrapper that writes "\\r\\n" for "\\n" (what
newline=None does with os.linesep "\\r\\n"), handed to the run as the program's own stdout
is: through Streams.system(), with sys.platform "win32". The fast path answers `token
print`; the full app the others. Nothing here has run on Windows.
"""

from __future__ import annotations

import io
import json
import sys

import pytest

from nexla_cli import main
from nexla_cli.core.runtime import Streams
from nexla_cli.deps import Deps
from tests.support.other_systems import simulate


def windows_stdout() -> tuple[io.TextIOWrapper, io.BytesIO]:
    raw = io.BytesIO()
    return io.TextIOWrapper(raw, encoding="utf-8", newline="\r\n", write_through=True), raw


def run_as_on_windows(nx, monkeypatch, *argv: str) -> tuple[int, bytes]:
    stdout, raw = windows_stdout()
    simulate(monkeypatch, "win32")
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.setattr(sys, "stdin", io.StringIO())
    code = main.run(list(argv), Deps(nx.env, Streams.system()))
    stdout.flush()
    return code, raw.getvalue()


def test_the_stand_in_does_write_crlf():
    # Without the fix this is what every result looked like on Windows.
    stdout, raw = windows_stdout()
    stdout.write("token\n")
    assert raw.getvalue() == b"token\r\n"


def test_token_print_on_the_fast_path_ends_with_lf(nx, monkeypatch):
    token = nx.sign_in()
    code, out = run_as_on_windows(nx, monkeypatch, "token", "print")
    assert (code, out) == (0, token.encode() + b"\n")


@pytest.mark.parametrize(
    "argv",
    [
        ("token", "export"),
        ("token", "export", "--format", "powershell"),
        ("token", "status", "--json"),
        ("env", "list"),
        ("env", "list", "--json"),
    ],
)
def test_full_app_results_end_lines_with_lf(nx, monkeypatch, argv):
    nx.sign_in()
    code, out = run_as_on_windows(nx, monkeypatch, *argv)
    assert code == 0
    assert out.endswith(b"\n") and b"\r" not in out, out
    if "--json" in argv:
        json.loads(out)
