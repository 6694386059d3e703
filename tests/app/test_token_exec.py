"""`nexla token exec -- COMMAND` (docs/scripting.md), with a real child process: its
environment, its streams, its exit status, and the signals passed on to it.

The child is a shell (the cheapest to start) wherever its language does not matter. What
reaches it through its environment, its arguments and its exit status is checked with
`nexla` in-process, the child writing what it got to a file; its streams, the descriptors
it inherits, /proc and signals need `nexla` as a real process (e2e)."""

from __future__ import annotations

import subprocess

import pytest

from tests.support.outcomes import describe
from tests.support.signing_in import from_key
from tests.support.stores import set_times, stored_session


def _exec(nx, *command: str, env=None, input=None, options=()):
    return nx.run("token", "exec", *options, "--", *command, env=env, input=input)


def _exec_dumping_env(nx, *, env=None, options=()) -> tuple[subprocess.CompletedProcess, dict]:
    """`token exec OPTIONS -- sh …` whose child writes its environment to a file; returns
    the run and that environment (NUL-separated, so any value comes back whole)."""
    dump = nx.tmp_path / "child-env"
    result = _exec(nx, "sh", "-c", 'exec env -0 > "$1"', "sh", str(dump), env=env, options=options)
    assert result.returncode == 0, describe(result)
    entries = dump.read_text().split("\0")[:-1]
    return result, dict(entry.split("=", 1) for entry in entries)


def test_command_gets_the_variables_and_never_the_service_key(nx):
    assert from_key(nx, "svc-key-1", "--save-key").returncode == 0
    nx.server.clear_log()
    result, child_env = _exec_dumping_env(nx, env=nx.env_with(CALLER_SETTING="kept"))
    assert child_env["NEXLA_ACCESS_TOKEN"] == stored_session(nx)["access_token"]
    assert child_env["NEXLA_API_URL"] == nx.server.api_url
    assert child_env["NEXLA_ENV"] == nx.server.host
    assert child_env["CALLER_SETTING"] == "kept"
    assert "NEXLA_SERVICE_KEY" not in child_env
    assert not [name for name, value in child_env.items() if "svc-key-1" in value]
    assert nx.server.count() == 0


def test_callers_own_service_key_variable_is_left_as_it_is(nx):
    nx.sign_in()
    result, child_env = _exec_dumping_env(nx, env=nx.env_with(NEXLA_SERVICE_KEY="callers-key"))
    assert child_env["NEXLA_SERVICE_KEY"] == "callers-key"
    assert "NEXLA_SERVICE_KEY is set" in result.stderr


def test_callers_access_token_variable_is_handed_on_as_it_is(nx):
    nx.sign_in()
    _, child_env = _exec_dumping_env(nx, env=nx.env_with(NEXLA_ACCESS_TOKEN="tok-callers"))
    assert child_env["NEXLA_ACCESS_TOKEN"] == "tok-callers"


@pytest.mark.parametrize(
    "script,expected",
    [
        ("exit 0", 0),
        ("exit 3", 3),
        ("exit 255", 255),
        ("kill -KILL $$", 128 + 9),
        ("kill -TERM $$", 128 + 15),
    ],
)
def test_exit_status_is_the_commands(nx, script, expected):
    # In-process: the status nexla returns (a real process exits with it: see the signal
    # tests below).
    nx.sign_in()
    result = _exec(nx, "sh", "-c", script)
    assert result.returncode == expected, describe(result)
    assert result.stdout == ""


def test_command_not_found_is_127(nx):
    nx.sign_in()
    result = _exec(nx, "no-such-command-here")
    assert result.returncode == 127, describe(result)
    assert "no-such-command-here" in result.stderr and "Traceback" not in result.stderr


def test_command_that_cannot_be_run_is_126(nx):
    nx.sign_in()
    plain_file = nx.tmp_path / "not-executable"
    plain_file.write_text("echo hi\n")
    plain_file.chmod(0o644)
    for target in (str(plain_file), str(nx.tmp_path)):
        result = _exec(nx, target)
        assert result.returncode == 126, describe(result)
        assert "Traceback" not in result.stderr


def test_no_command_is_a_usage_error(nx):
    nx.sign_in()
    result = nx.fails(2, "token", "exec")
    assert result.stderr.startswith("error: ")


# The command writes its arguments, one a line, to the file named as its $0.
WRITE_ARGS = 'printf "%s\\n" "$@" > "$0"'


def test_options_after_the_command_are_the_commands(nx):
    nx.sign_in()
    seen = nx.tmp_path / "args"
    nx.ok("token", "exec", "sh", "-c", WRITE_ARGS, seen, "--env", "x")
    assert seen.read_text() == "--env\nx\n"


def test_debug_after_the_command_is_the_commands(nx):
    """`--debug` is nexla's anywhere on its own part of the line, never in COMMAND's."""
    nx.sign_in()
    seen = nx.tmp_path / "args"
    result = nx.ok(
        "token", "exec", "--env", nx.server.host, "sh", "-c", WRITE_ARGS, seen, "--debug"
    )
    assert seen.read_text() == "--debug\n"
    assert "debug:" not in result.stderr


def test_due_token_is_renewed_before_the_command_starts(nx):
    nx.sign_in()
    set_times(nx, lifetime=3600, left=1000, source="refreshed", expires_estimated=False)
    nx.server.clear_log()
    _, child_env = _exec_dumping_env(nx, options=("--min-ttl", "1800"))
    assert nx.server.count() == 1
    assert child_env["NEXLA_ACCESS_TOKEN"] == nx.server.issued[-1]


def test_no_session_runs_nothing(nx):
    marker = nx.tmp_path / "ran"
    result = _exec(nx, "sh", "-c", ': > "$1"', "sh", str(marker))
    assert result.returncode == 3, describe(result)
    assert not marker.exists()
