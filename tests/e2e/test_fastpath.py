"""The `token print` fast path (nexla_cli/fast/fastpath.py) answers exactly as the full app would.

Each case builds the same world twice, in two config directories: `nexla token print` runs
in one through the program's entry (main.run, which takes the fast path where it can), and
the full app (cli.run, which has no fast path) in the other. Stdout, exit code and stderr
must match once the tokens and the config path are named alike. A refresh kills the old
token, so each side gets its own freshly issued one. Whether the fast path answered a case
itself is asked of fastpath.token_print directly: it only reads, so asking changes nothing.

The comparisons of every case run in this process (tests/app/test_fastpath.py). Here, for a
few cases, the installed console script: that it really skips Typer, and hands over when it
should (run with PYTHONPROFILEIMPORTTIME=1, which lists the modules it loaded), and that a
failing stdout is reported as the full app reports it.
"""

import contextlib
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.fastpath_worlds import (
    CASES,
    FULL_APP,
    answer_with,
    fresh_world,
    normalised,
    run_side,
)
from tests.support.processes import nexla_executable
from tests.support.startup import split_importtime


def _run_installed(nx, build: Callable, now: float):
    """The installed `nexla token print` in a world of its own: its outcome as run_side gives
    it, and the modules it loaded."""
    config = nx.tmp_path / "installed"
    world = build(nx, config, now)
    already = len(nx.server.issued)
    result = subprocess.run(
        [nexla_executable(), "token", "print", *world.args],
        env=nx.env_with(NEXLA_CONFIG_DIR=str(config), PYTHONPROFILEIMPORTTIME="1", **world.env),
        cwd=nx.tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    modules, stderr = split_importtime(result.stderr)
    issued = nx.server.issued[already:]
    outcome = (
        result.returncode,
        normalised(result.stdout, world, issued, config),
        normalised(stderr, world, issued, config),
    )
    nx.server.clear_faults()
    return outcome, modules


# Answered by the fast path (a stored token, the variable, a warning on stderr) and handed
# to the full app (a refresh, an error, an option it does not take).
INSTALLED_CASES = [
    "fresh",
    "group-readable file",
    "NEXLA_ACCESS_TOKEN, no store",
    "due",
    "corrupt store",
]


# what a fresh interpreter imports
@pytest.mark.parametrize("case", INSTALLED_CASES)
def test_the_installed_command_takes_the_fast_path_where_it_answers(nx, case):
    build, answered_fast = CASES[case]

    now = int(time.time())  # both sides store the very same times
    full, _ = run_side(nx, "full-app", build, now, FULL_APP)
    installed, modules = _run_installed(nx, build, now)

    assert installed == full
    assert ("typer" not in modules) == answered_fast, "fast path taken" if answered_fast else ""


# stdout is /dev/full for the installed command
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_failing_stdout_is_reported_as_the_full_app_does(nx):
    outcomes = []
    # The full app in this process, its stdout the same device opened as a text file.
    config = nx.tmp_path / "full-app"
    fresh_world(nx, config, int(time.time()))
    full = open("/dev/full", "w", encoding="utf-8")
    try:
        code, _, stderr = answer_with(
            FULL_APP,
            ["token", "print"],
            nx.env_with(NEXLA_CONFIG_DIR=str(config)),
            nx.tmp_path,
            stdout=full,
        )
    finally:
        with contextlib.suppress(OSError):  # what could not be written is still buffered
            full.close()
    outcomes.append((code, stderr))
    config = nx.tmp_path / "installed"
    fresh_world(nx, config, int(time.time()))
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [nexla_executable(), "token", "print"],
            env=nx.env_with(NEXLA_CONFIG_DIR=str(config)),
            stdin=subprocess.DEVNULL,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    outcomes.append((result.returncode, result.stderr))
    assert outcomes[1] == outcomes[0]
    # A result that cannot be written is a clean error (exit 3), not a bug (docs/storage.md).
    assert outcomes[0][0] == 3 and outcomes[0][1].startswith("error: ")
    assert "Traceback" not in outcomes[0][1]
