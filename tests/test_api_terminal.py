"""`nexla api` on a terminal: JSON pretty-printed (coloured unless NO_COLOR), a spinner on
stderr for slow calls; run in a real pseudo-terminal with pexpect."""

from __future__ import annotations

import json
import re

import pexpect
import pytest

from tests.conftest import nexla_executable
from tests.fake_nexla import TEAMS

# Every test runs `nexla` in a real pseudo-terminal.
pytestmark = pytest.mark.e2e

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# rich's default "dots" spinner draws with braille characters.
SPINNER = re.compile("[\u2800-\u28ff]")


@pytest.fixture
def api(nx):
    nx.token = nx.sign_in()
    return nx


def run_in_terminal(nx, command: str, *, colour: bool, timeout: float = 60) -> tuple[str, int]:
    """Run a shell command line in a pty (stdout and stderr a terminal unless redirected)."""
    env = nx.env_with(TERM="xterm-256color", COLUMNS="100", LINES="40")
    if colour:
        env.pop("NO_COLOR", None)
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


def test_json_is_pretty_printed_without_colour_under_no_color(api):
    text, status = run_in_terminal(api, f"{nexla_executable()} api /teams", colour=False)
    assert status == 0, text
    assert not ANSI.search(text)
    assert text == json.dumps(TEAMS, indent=2) + "\n"


def test_json_is_pretty_printed_in_colour(api):
    text, status = run_in_terminal(api, f"{nexla_executable()} api /teams/1", colour=True)
    assert status == 0, text
    assert ANSI.search(text)
    plain = ANSI.sub("", text)
    assert '  "name": "Data Engineering",' in plain
    assert json.loads(plain) == TEAMS[0]


def test_error_body_on_a_terminal(api):
    text, status = run_in_terminal(api, f"{nexla_executable()} api /teams -f name=", colour=False)
    assert status == 6
    message = "The property '#/' did not contain a required property of 'name'"
    assert f'  "message": "{message}",' in text
    assert f"error: {message} (HTTP 400 Bad Request)" in text


def test_paginated_listing_on_a_terminal(api):
    api.server.data_source_count = 3
    text, status = run_in_terminal(
        api, f"{nexla_executable()} api /data_sources --paginate", colour=False
    )
    assert status == 0, text
    assert text == json.dumps([{"id": 1}, {"id": 2}, {"id": 3}], indent=2) + "\n"


def test_a_slow_call_shows_a_spinner_on_a_terminal(api):
    api.server.set_delay("GET", "/teams", 1.5)
    text, status = run_in_terminal(api, f"{nexla_executable()} api /teams", colour=True)
    assert status == 0, text
    assert SPINNER.search(text), text
    assert "GET https://" in ANSI.sub("", text)


def test_no_spinner_with_no_color(api):
    api.server.set_delay("GET", "/teams", 1.5)
    text, status = run_in_terminal(api, f"{nexla_executable()} api /teams", colour=False)
    assert status == 0, text
    assert not SPINNER.search(text)
    assert not ANSI.search(text)


def test_no_spinner_when_stderr_is_not_a_terminal(api):
    api.server.set_delay("GET", "/teams", 1.5)
    err = api.tmp_path / "stderr.txt"
    text, status = run_in_terminal(api, f"{nexla_executable()} api /teams 2>{err}", colour=True)
    assert status == 0, text
    assert err.read_text() == ""
    assert not SPINNER.search(text)
    assert json.loads(ANSI.sub("", text)) == TEAMS
