"""`nexla api` on a terminal: JSON pretty-printed (coloured unless NO_COLOR), a spinner on
stderr for slow calls.

Here `nexla` runs in a real pseudo-terminal with pexpect, for what only a real process has:
its own stdout and stderr found to be a terminal, and the spinner's real delay. What follows
from the run's TTY flags alone is tested in-process in tests/app/test_api_terminal.py.
"""

from __future__ import annotations

import json

import pexpect

from tests.support.fake_nexla import TEAMS
from tests.support.processes import nexla_executable
from tests.support.screens import ANSI, SPINNER, terminal_env

# The spinner's real delay is 0.3 s (nexla_cli.deps.Timing): a call the server holds for 1 s
# is slow enough for it to be drawn, even on a loaded machine.
SLOW_CALL = 1.0


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


# a real pseudo-terminal as stdout
def test_json_is_pretty_printed_without_colour_under_no_color(api):
    text, status = run_in_terminal(api, f"{nexla_executable()} api /teams", colour=False)
    assert status == 0, text
    assert not ANSI.search(text)
    assert text == json.dumps(TEAMS, indent=2) + "\n"


# a real pseudo-terminal as stderr, and the spinner's real delay
def test_a_slow_call_shows_a_spinner_on_a_terminal(api):
    api.server.set_delay("GET", "/teams", SLOW_CALL)
    text, status = run_in_terminal(api, f"{nexla_executable()} api /teams", colour=True)
    assert status == 0, text
    assert SPINNER.search(text), text
    assert "GET https://" in ANSI.sub("", text)
