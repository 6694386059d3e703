"""`nexla api` on a terminal: JSON pretty-printed (coloured unless NO_COLOR), a spinner on
stderr for slow calls.

What a terminal shows is decided from the run's TTY flags: most tests set them in-process.
A few run `nexla` in a real pseudo-terminal with pexpect, for what only a real process has:
its own stdout and stderr found to be a terminal, and the spinner's real delay.
"""

from __future__ import annotations

import json
import re

import pexpect
import pytest

from nexla_cli.deps import Timing
from tests.conftest import nexla_executable
from tests.fake_nexla import TEAMS
from tests.inprocess import run_in_process

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# rich's default "dots" spinner draws with braille characters.
SPINNER = re.compile("[\u2800-\u28ff]")


@pytest.fixture
def api(nx):
    nx.token = nx.sign_in()
    return nx


# The spinner's real delay is 0.3 s (nexla_cli.deps.Timing): a call the server holds for 1 s
# is slow enough for it to be drawn, even on a loaded machine.
SLOW_CALL = 1.0


def terminal_env(nx, *, colour: bool) -> dict[str, str]:
    env = nx.env_with(TERM="xterm-256color", COLUMNS="100", LINES="40")
    if colour:
        env.pop("NO_COLOR", None)
    return env


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


def run_in_terminal(nx, command: str, *, colour: bool, timeout: float = 60) -> tuple[str, int]:
    """Run a shell command line in a pty (stdout and stderr a terminal unless redirected)."""
    env = terminal_env(nx, colour=colour)
    child = pexpect.spawn(
        "/bin/sh",
        ["-c", command],
        env=env,
        cwd=str(nx.tmp_path),
        encoding="utf-8",
        timeout=timeout,
        dimensions=(40, 100),
    )
    text = child.read()
    child.close()
    return text.replace("\r\n", "\n"), child.exitstatus


@pytest.mark.e2e  # a real pseudo-terminal as stdout
def test_json_is_pretty_printed_without_colour_under_no_color(api):
    text, status = run_in_terminal(api, f"{nexla_executable()} api /teams", colour=False)
    assert status == 0, text
    assert not ANSI.search(text)
    assert text == json.dumps(TEAMS, indent=2) + "\n"


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


@pytest.mark.e2e  # a real pseudo-terminal as stderr, and the spinner's real delay
def test_a_slow_call_shows_a_spinner_on_a_terminal(api):
    api.server.set_delay("GET", "/teams", SLOW_CALL)
    text, status = run_in_terminal(api, f"{nexla_executable()} api /teams", colour=True)
    assert status == 0, text
    assert SPINNER.search(text), text
    assert "GET https://" in ANSI.sub("", text)


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
