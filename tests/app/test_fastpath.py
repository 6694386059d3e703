"""The `token print` fast path (nexla_cli/fast/fastpath.py) answers exactly as the full app would.

Each case builds the same world twice, in two config directories: `nexla token print` runs
in one through the program's entry (main.run, which takes the fast path where it can), and
the full app (cli.run, which has no fast path) in the other. Stdout, exit code and stderr
must match once the tokens and the config path are named alike. A refresh kills the old
token, so each side gets its own freshly issued one. Whether the fast path answered a case
itself is asked of fastpath.token_print directly: it only reads, so asking changes nothing.

These comparisons run in this process: what the fast path answers does not depend on being
a process of its own. What does (that the installed console script really skips Typer, and
hands over when it should) is tests/e2e/test_fastpath.py's.
"""

import time

import pytest

from tests.support.fastpath_worlds import (
    CASES,
    FULL_APP,
    run_side,
)


@pytest.mark.parametrize("case", list(CASES))
def test_token_print_answers_as_the_full_app(nx, case):
    build, answered_fast = CASES[case]

    now = int(time.time())  # both sides store the very same times
    full, _ = run_side(nx, "full-app", build, now, FULL_APP)
    program, fast = run_side(nx, "program", build, now)

    assert program == full
    assert fast == answered_fast, "fast path taken" if answered_fast else "fast path not taken"


def test_fresh_outcomes_are_what_the_contract_says(nx):
    # Parity alone would pass if both sides were wrong in the same way.
    outcome, _ = run_side(nx, "program", CASES["fresh"][0], time.time())
    assert outcome == (0, "<stored token>\n", "")
    outcome, _ = run_side(nx, "variable", CASES["NEXLA_ACCESS_TOKEN, no store"][0], time.time())
    assert outcome == (0, "tok-variable\n", "")
    code, stdout, stderr = run_side(nx, "group", CASES["group-readable file"][0], time.time())[0]
    assert (code, stdout) == (0, "<stored token>\n")
    assert stderr == (
        "warning: <config>/credentials.json is accessible by group or others (mode 0640); "
        "run `chmod 600 <config>/credentials.json`\n"
    )
    assert nx.server.count() == 0  # a fresh token needs no request


def test_due_token_is_refreshed_not_printed(nx):
    code, stdout, stderr = run_side(nx, "program", CASES["due"][0], time.time())[0]
    assert (code, stdout, stderr) == (0, "<new token 1>\n", "")
    assert nx.server.count("POST", "/token/refresh") == 1


@pytest.mark.parametrize("case", ["no environment", "corrupt store", "expired"])
def test_error_cases_are_left_to_the_full_app(nx, case):
    code, stdout, stderr = run_side(nx, "program", CASES[case][0], time.time())[0]
    assert code in (3, 4) and stdout == ""
    assert stderr.startswith("error: ") and "Traceback" not in stderr
