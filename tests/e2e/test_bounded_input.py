"""The e2e tier of tests/app/test_bounded_input.py, whose docstring says what is promised: the
cases that need a real `nexla` process (a terminal, signals, several processes, what a fresh
interpreter loads)."""

from __future__ import annotations

import shlex
import subprocess

import pytest

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from tests.support.outcomes import assert_error
from tests.support.processes import nexla_executable
from tests.support.signing_in import seed

USAGE = 2
PROMPTLY = 30  # a hang or an out-of-memory read is what is ruled out, not slowness


# an endless stdin from a shell pipeline
@pytest.mark.parametrize("source", ["/dev/zero", "yes ''", "yes tok"])
def test_an_endless_stdin_is_refused(nx, source):
    seed(nx)
    feed = f"< {source}" if source.startswith("/") else None
    line = f"{shlex.quote(nexla_executable())} env login --env {nx.server.host} --with-token"
    line = f"{line} {feed}" if feed else f"{source} | {line}"
    result = subprocess.run(
        ["sh", "-c", line], env=nx.env, capture_output=True, text=True, timeout=PROMPTLY
    )
    if source == "yes tok":  # endless lines: the first is the token, the rest never read
        assert_error(result, 4, "rejected")
        assert nx.server.count() == 1
        return
    assert_error(result, USAGE)
    assert nx.server.count() == 0
