"""A mistyped command or option is answered with the closest name only when it is close."""

from __future__ import annotations

import pytest

CASES = [
    # (arguments, the error line)
    (("--json",), "error: No such option: --json"),
    (("--verison",), "error: No such option: --verison (Possible options: --version)"),
    (("tokn",), "error: No such command 'tokn'. Did you mean 'token'?"),
    (("nope",), "error: No such command 'nope'."),
    (("help", "nope"), "error: No such command: nexla nope"),
    (("help", "tokn"), "error: No such command: nexla tokn. Did you mean 'token'?"),
    (
        ("help", "token", "pirnt"),
        "error: No such command: nexla token pirnt. Did you mean 'print'?",
    ),
]


@pytest.mark.parametrize("args, line", CASES, ids=[" ".join(args) for args, _ in CASES])
def test_a_suggestion_only_when_close(nx, args, line):
    result = nx.fails(2, *args)
    assert result.stderr.splitlines()[0] == line
    assert result.stdout == ""
