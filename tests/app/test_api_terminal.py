"""`nexla api` on a terminal: JSON pretty-printed (coloured unless NO_COLOR), a spinner on
stderr for slow calls.

What a terminal shows is decided from the run's TTY flags, set here in-process. What only a
real process has (its own stdout and stderr found to be a terminal, the spinner's real
delay) is tested in a real pseudo-terminal in tests/e2e/test_api_terminal.py.
"""

from __future__ import annotations

import json

from nexla_cli.core.runtime import Timing
from tests.support.fake_nexla import TEAMS
from tests.support.inprocess import run_in_process
from tests.support.screens import ANSI, SPINNER, terminal_env


def on_terminal(nx, *args: str, colour: bool, timing: Timing, stderr_tty: bool = True):
    """`nexla ARGS` in-process, stdout a terminal, and stderr too unless told."""
    return run_in_process(
        list(args),
        env=terminal_env(nx, colour=colour),
        cwd=nx.tmp_path,
        stdout_tty=True,
        stderr_tty=stderr_tty,
        timing=timing,
    )


# A spinner that never starts, for tests of what stdout shows: on a loaded machine a call may
# well take longer than the real 0.3 s, and the spinner would then share the terminal.
NO_SPINNER = Timing(retry_backoff=0.0, spinner_delay=3600)
# In-process the spinner may start sooner: a call six times as long as its delay shows it.
QUICK_SPINNER = Timing(retry_backoff=0.0, spinner_delay=0.05)
QUICKLY_SLOW_CALL = 0.3


def assert_a_spinner_would_show(nx) -> None:
    """The control for a test of no spinner: with colour, on a terminal, this call shows one."""
    shown = on_terminal(nx, "api", "/teams", colour=True, timing=QUICK_SPINNER)
    assert shown.returncode == 0, shown.stderr
    assert SPINNER.search(shown.stderr), shown.stderr


def test_json_is_pretty_printed_in_colour(api):
    result = on_terminal(api, "api", "/teams/1", colour=True, timing=NO_SPINNER)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    text = result.stdout
    assert ANSI.search(text)
    plain = ANSI.sub("", text)
    assert '  "name": "Data Engineering",' in plain
    assert json.loads(plain) == TEAMS[0]


def test_error_body_on_a_terminal(api):
    result = on_terminal(api, "api", "/teams", "-f", "name=", colour=False, timing=NO_SPINNER)
    assert result.returncode == 6
    message = "The property '#/' did not contain a required property of 'name'"
    assert f'  "message": "{message}",' in result.stdout
    assert f"error: {message} (HTTP 400 Bad Request)" in result.stderr


def test_paginated_listing_on_a_terminal(api):
    api.server.data_source_count = 3
    result = on_terminal(api, "api", "/data_sources", "--paginate", colour=False, timing=NO_SPINNER)
    assert result.returncode == 0, result.stderr
    assert result.stdout == json.dumps([{"id": 1}, {"id": 2}, {"id": 3}], indent=2) + "\n"


def test_no_spinner_with_no_color(api):
    api.server.set_delay("GET", "/teams", QUICKLY_SLOW_CALL)
    assert_a_spinner_would_show(api)

    result = on_terminal(api, "api", "/teams", colour=False, timing=QUICK_SPINNER)
    assert result.returncode == 0, result.stderr
    text = result.stdout + result.stderr
    assert not SPINNER.search(text)
    assert not ANSI.search(text)


def test_no_spinner_when_stderr_is_not_a_terminal(api):
    api.server.set_delay("GET", "/teams", QUICKLY_SLOW_CALL)
    assert_a_spinner_would_show(api)

    result = on_terminal(api, "api", "/teams", colour=True, timing=QUICK_SPINNER, stderr_tty=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert not SPINNER.search(result.stdout)
    assert json.loads(ANSI.sub("", result.stdout)) == TEAMS
