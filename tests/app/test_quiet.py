"""`-q/--quiet` anywhere on the line, and NEXLA_QUIET (README.md, "Settings"; docs/scripting.md,
the cron recipe): no message on success, warnings and errors still on stderr, stdout as it
would be without it. A bad NEXLA_QUIET is exit 2 on every path, the `token print` fast path
included."""

from __future__ import annotations

import pytest

from nexla_cli.fast import fastpath
from tests.support.fake_nexla import Fault
from tests.support.fastpath_worlds import answer_with
from tests.support.outcomes import assert_clean_error
from tests.support.signing_in import seed, signed_in_with_time_left
from tests.support.stores import store_path

SERVICE_KEY = "svc-key-quiet"


def _signed_in(nx) -> dict:
    nx.sign_in()
    return {}


def _nothing(nx) -> dict:
    return {}


def _pasted(nx) -> dict:
    return {"input": nx.server.issue_token() + "\n"}


def _key_in_variable(nx) -> dict:
    nx.server.add_service_key(SERVICE_KEY)
    return {"env": nx.env_with(NEXLA_SERVICE_KEY=SERVICE_KEY)}


def _no_output(nx) -> str:
    return ""


def _last_issued(nx) -> str:
    return nx.server.issued[-1] + "\n"


# Each command that says something on success: (make its world; its words, HOST for the fake
# server's name; what stdout holds, asked after the run).
COMMANDS = {
    "token refresh": (_signed_in, ["token", "refresh"], _no_output),
    "token refresh --print": (_signed_in, ["token", "refresh", "--print"], _last_issued),
    "token from-key": (_key_in_variable, ["token", "from-key", "--env", "HOST"], _no_output),
    "token from-key --print": (
        _key_in_variable,
        ["token", "from-key", "--env", "HOST", "--print"],
        _last_issued,
    ),
    "env use": (_signed_in, ["env", "use", "HOST"], _no_output),
    "env logout": (_signed_in, ["env", "logout"], _no_output),
    "env remove": (_signed_in, ["env", "remove", "HOST"], _no_output),
    "env configure --with-token": (
        _pasted,
        ["env", "configure", "HOST", "--with-token"],
        _no_output,
    ),
    "env login --with-token": (_signed_in, ["env", "login", "--with-token"], _no_output),
    "env list, none configured": (_nothing, ["env", "list"], _no_output),
}


def _with_login_token(nx, make, options: dict) -> dict:
    # `env login --with-token` reads a fresh token from stdin, after the world is made.
    if make is _signed_in and "input" not in options:
        options = {**options, "input": nx.server.issue_token() + "\n"}
    return options


def _quiet_positions(words: list[str]) -> dict[str, tuple[list[str], dict[str, str]]]:
    """The ways to ask for quiet: the flag in several places, and the variable."""
    return {
        "-q first": (["-q", *words], {}),
        "-q after the group": ([words[0], "-q", *words[1:]], {}),
        "-q last": ([*words, "-q"], {}),
        "--quiet among the options": ([*words[:2], "--quiet", *words[2:]], {}),
        "NEXLA_QUIET=1": (words, {"NEXLA_QUIET": "1"}),
        "NEXLA_QUIET=Yes": (words, {"NEXLA_QUIET": " Yes "}),
    }


def _run(nx, command: str, how: str | None):
    make, words, expected_stdout = COMMANDS[command]
    options = _with_login_token(nx, make, make(nx))
    words = [word.replace("HOST", nx.server.host) for word in words]
    variables: dict[str, str] = {}
    if how is not None:
        words, variables = _quiet_positions(words)[how]
    if variables:
        options["env"] = {**options.get("env", nx.env), **variables}
    result = nx.ok(*words, **options)
    return result, expected_stdout(nx)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_without_quiet_each_command_says_something(nx, command):
    # The case the quiet runs below are measured against: a message, and the stdout expected.
    result, stdout = _run(nx, command, None)
    assert result.stderr.strip(), f"{command} printed no message"
    assert result.stdout == stdout


@pytest.mark.parametrize("how", list(_quiet_positions(["g", "c"])))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_quiet_success_prints_no_message_and_the_same_stdout(nx, command, how):
    result, stdout = _run(nx, command, how)
    assert result.stderr == ""
    assert result.stdout == stdout


@pytest.mark.parametrize("value", ["0", "false", "No", "off", "", "  "])
def test_nexla_quiet_off_values_keep_the_messages(nx, value):
    nx.sign_in()
    result = nx.ok("env", "use", nx.server.host, env=nx.env_with(NEXLA_QUIET=value))
    assert "Current Environment" in result.stderr


def test_a_warning_is_still_shown(nx):
    token = signed_in_with_time_left(nx, left=60)
    nx.server.add_fault("POST", "/token/refresh", Fault.status(500), times=None)
    result = nx.ok("-q", "token", "print", env=nx.env_with(NEXLA_TIMEOUT="2"))
    assert result.stdout == token + "\n"
    assert result.stderr.startswith("warning: could not refresh the session"), result.stderr


def test_a_warning_is_still_shown_on_the_fast_path(nx):
    token = seed(nx)
    store_path(nx.config_dir).chmod(0o640)
    argv = ["token", "print", "--quiet"]
    answered, stdout, stderr = answer_with(fastpath.token_print, argv, nx.env, nx.tmp_path)
    assert answered == 0, "the fast path did not answer `token print --quiet`"
    assert stdout == token + "\n"
    assert stderr.startswith("warning: ") and "mode 0640" in stderr
    # And the whole program, quiet by the variable, says the same.
    result = nx.ok("token", "print", env=nx.env_with(NEXLA_QUIET="1"))
    assert (result.stdout, result.stderr) == (stdout, stderr)


def test_an_error_is_still_shown_with_its_hint(nx):
    token = nx.sign_in()
    nx.server.invalidate(token)
    result = nx.run("token", "refresh", "-q")
    assert_clean_error(result, 4, "refused")
    assert "hint: " in result.stderr


def test_token_status_hint_is_still_shown(nx):
    nx.sign_in()
    nx.ok("env", "logout")
    result = nx.fails(4, "token", "status", "--quiet")
    assert "hint: " in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["token", "print"],
        ["-q", "token", "print"],
        ["token", "refresh"],
        ["env", "list"],
        ["env", "use", "HOST"],
    ],
)
@pytest.mark.parametrize("value", ["maybe", "2", "quiet"])
def test_a_bad_nexla_quiet_is_exit_2(nx, args, value):
    nx.sign_in()  # a fresh token: `token print` would be answered by the fast path
    args = [arg.replace("HOST", nx.server.host) for arg in args]
    result = nx.run(*args, env=nx.env_with(NEXLA_QUIET=value))
    assert_clean_error(result, 2, "NEXLA_QUIET")
    assert result.stdout == ""
    assert nx.server.count() == 0


def test_the_fast_path_leaves_a_bad_nexla_quiet_to_the_full_app(nx):
    nx.sign_in()
    env = nx.env_with(NEXLA_QUIET="maybe")
    answered, stdout, stderr = answer_with(
        fastpath.token_print, ["token", "print"], env, nx.tmp_path
    )
    assert (answered, stdout, stderr) == (None, "", "")
