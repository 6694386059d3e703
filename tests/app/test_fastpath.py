"""The `token print` fast path (nexla_cli/fastpath.py) answers exactly as the full app would.

Each case builds the same world twice, in two config directories: `nexla token print` runs
in one through the program's entry (main.run, which takes the fast path where it can), and
the full app (cli.run, which has no fast path) in the other. Stdout, exit code and stderr
must match once the tokens and the config path are named alike. A refresh kills the old
token, so each side gets its own freshly issued one. Whether the fast path answered a case
itself is asked of fastpath.token_print directly: it only reads, so asking changes nothing.

These comparisons run in this process: what the fast path answers does not depend on being
a process of its own. What does (that the installed console script really skips Typer, and
hands over when it should) is checked for a few cases with the installed `nexla`, run with
PYTHONPROFILEIMPORTTIME=1, which lists the modules it loaded.
"""

import contextlib
import io
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nexla_cli import cli, fastpath, main
from nexla_cli.deps import Deps, Streams
from tests.conftest import nexla_executable
from tests.fake_nexla import Fault
from tests.inprocess import FAST
from tests.test_startup import seed_store, session_record, split_importtime

OTHER = "other.example.com"


@dataclass
class World:
    """What one side runs with: its arguments, variables, and the token it was seeded with."""

    args: list
    env: dict = field(default_factory=dict)
    token: str = ""


def _fresh(nx, config: Path, now: int) -> World:
    token = nx.server.issue_token()
    seed_store(
        config,
        {nx.server.host: _on_server(nx, session_record(token, left=3000, now=now))},
        nx.server.host,
    )
    return World([], {}, token)


def _on_server(nx, session):
    return (nx.server.api_url, session)


def _two_envs(nx, config: Path, now: int) -> World:
    """The fake's environment and another, current, both fresh."""
    token = nx.server.issue_token()
    seed_store(
        config,
        {
            nx.server.host: _on_server(nx, session_record(token, left=3000, now=now)),
            OTHER: session_record("tok-other-environment", left=3000, now=now),
        },
        OTHER,
    )
    return World([], {}, token)


def _due(nx, config: Path, now: int) -> World:
    token = nx.server.issue_token(lifetime=120)
    seed_store(
        config,
        {nx.server.host: _on_server(nx, session_record(token, left=120, now=now))},
        nx.server.host,
    )
    return World([], {}, token)


def _due_server_failing(nx, config: Path, now: int) -> World:
    nx.server.add_fault("POST", "/token/refresh", Fault.status(500), times=None)
    return _due(nx, config, now)


def _expired(nx, config: Path, now: int) -> World:
    token = nx.server.issue_token()
    nx.server.expire(token)
    seed_store(
        config,
        {nx.server.host: _on_server(nx, session_record(token, left=-60, now=now))},
        nx.server.host,
    )
    return World([], {}, token)


def _rejected(nx, config: Path, now: int) -> World:
    token = nx.server.issue_token()
    failure = {"at": 0, "kind": "rejected"}
    seed_store(
        config,
        {
            nx.server.host: _on_server(
                nx, session_record(token, left=3000, now=now, refresh_failure=failure)
            )
        },
        nx.server.host,
    )
    return World([], {}, token)


def _signed_out(nx, config: Path, now: int) -> World:
    seed_store(config, {nx.server.host: (nx.server.api_url, None)}, nx.server.host)
    return World([])


def _no_environment(nx, config: Path, now: int) -> World:
    return World([])


def _none_current(nx, config: Path, now: int) -> World:
    seed_store(
        config, {nx.server.host: _on_server(nx, session_record("tok-x", left=3000, now=now))}
    )
    return World([])


def _corrupt(nx, config: Path, now: int) -> World:
    config.mkdir(mode=0o700)
    (config / "credentials.json").write_text('{"version": 2, "environments": ')
    (config / "credentials.json").chmod(0o600)
    return World([])


def _group_readable(nx, config: Path, now: int) -> World:
    world = _fresh(nx, config, now)
    (config / "credentials.json").chmod(0o640)
    return world


def _access_token(value: str, with_store: bool) -> Callable:
    def build(nx, config: Path, now: int) -> World:
        world = _fresh(nx, config, now) if with_store else World([])
        world.env["NEXLA_ACCESS_TOKEN"] = value
        return world

    return build


def _with(build: Callable, args=(), **env) -> Callable:
    def wrapped(nx, config: Path, now: int) -> World:
        world = build(nx, config, now)
        world.args = [arg.replace("HOST", nx.server.host) for arg in args]
        world.env.update({key: value.replace("HOST", nx.server.host) for key, value in env.items()})
        return world

    return wrapped


# name: (build the world, the fast path answers it itself)
CASES = {
    "fresh": (_fresh, True),
    "fresh, --env NAME": (_with(_fresh, ["--env", "HOST"]), True),
    "fresh, -e NAME": (_with(_fresh, ["-e", "HOST"]), True),
    "fresh, --env=NAME": (_with(_fresh, ["--env=HOST"]), True),
    "fresh, NEXLA_ENV over the current one": (_with(_two_envs, NEXLA_ENV="HOST"), True),
    "fresh, --env over NEXLA_ENV": (_with(_two_envs, ["--env", "HOST"], NEXLA_ENV=OTHER), True),
    "fresh, NEXLA_ACCESS_TOKEN wins": (_access_token("tok-variable", True), True),
    "NEXLA_ACCESS_TOKEN, no store": (_access_token("  tok-variable \n", False), True),
    "NEXLA_ACCESS_TOKEN blank, store": (_access_token("  ", True), True),
    "group-readable file": (_group_readable, True),
    "due": (_due, False),
    "due, NEXLA_REFRESH_MARGIN": (_with(_fresh, NEXLA_REFRESH_MARGIN="3500"), False),
    "due, refresh fails": (_due_server_failing, False),
    "expired": (_expired, False),
    "rejected by the server before": (_rejected, False),
    "not signed in": (_signed_out, False),
    "no environment": (_no_environment, False),
    "none current": (_none_current, False),
    "unknown --env": (_with(_fresh, ["--env", OTHER]), False),
    "unknown NEXLA_ENV": (_with(_fresh, NEXLA_ENV=OTHER), False),
    "name needing normalisation": (_with(_fresh, ["--env", "https://HOST/token"]), False),
    "empty --env=": (_with(_fresh, ["--env="]), False),
    "invalid host": (_with(_fresh, ["-e", "http://HOST"]), False),
    "corrupt store": (_corrupt, False),
    "invalid NEXLA_REFRESH_MARGIN": (_with(_fresh, NEXLA_REFRESH_MARGIN="soon"), False),
    # Every setting is checked even when a fresh token needs no timeout or lock.
    "invalid NEXLA_TIMEOUT, fresh": (_with(_fresh, NEXLA_TIMEOUT="abc"), False),
    "invalid NEXLA_LOCK_TIMEOUT, fresh": (_with(_fresh, NEXLA_LOCK_TIMEOUT="-1"), False),
    "NEXLA_ACCESS_TOKEN with a newline": (_access_token("tok-a\ntok-b", False), False),
    "empty NEXLA_ENV is unset": (_with(_fresh, NEXLA_ENV=""), True),
    "another option": (_with(_fresh, ["--json"]), False),
    "an extra argument": (_with(_fresh, ["--env", "HOST", "extra"]), False),
    "--help": (_with(_fresh, ["--help"]), False),
    # --min-ttl (docs/scripting.md): answered here when the token has that long left.
    "fresh, --min-ttl within its life": (_with(_fresh, ["--min-ttl", "2000"]), True),
    "fresh, --min-ttl=N and --env": (_with(_fresh, ["--min-ttl=2000", "-e", "HOST"]), True),
    "fresh, --env then --min-ttl 0": (_with(_fresh, ["--env=HOST", "--min-ttl", "0"]), True),
    "fresh, --min-ttl beyond its life": (_with(_fresh, ["--min-ttl", "3300"]), False),
    "fresh, --min-ttl beyond the server's": (_with(_fresh, ["--min-ttl", "9000"]), False),
    "--min-ttl twice": (_with(_fresh, ["--min-ttl", "1", "--min-ttl", "9000"]), False),
    "--min-ttl with a sign": (_with(_fresh, ["--min-ttl", "+20"]), False),
    "--min-ttl negative": (_with(_fresh, ["--min-ttl", "-1"]), False),
    "--min-ttl not a number": (_with(_fresh, ["--min-ttl", "soon"]), False),
    "--min-ttl without a value": (_with(_fresh, ["--min-ttl"]), False),
    "--min-ttl=": (_with(_fresh, ["--min-ttl="]), False),
    "-e=NAME": (_with(_fresh, ["-e=HOST"]), False),
    "NEXLA_ACCESS_TOKEN, --min-ttl": (
        _with(_access_token("tok-variable", True), ["--min-ttl", "60"]),
        False,
    ),
    "NEXLA_ACCESS_TOKEN, --min-ttl 0": (
        _with(_access_token("tok-variable", True), ["--min-ttl", "0"]),
        True,
    ),
}


def _normalised(text: str, world: World, issued: list, config: Path) -> str:
    for number, token in enumerate(issued, 1):
        text = text.replace(token, f"<new token {number}>")
    if world.token:
        text = text.replace(world.token, "<stored token>")
    return text.replace(str(config), "<config>")


class _Output(io.TextIOWrapper):
    """An in-memory stdout or stderr, UTF-8 as the test environment's are, not a TTY."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8", errors="strict")

    def text(self) -> str:
        self.flush()
        return self.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]


def _answer(entry: Callable, argv: list, env: dict, cwd: Path, stdout=None) -> tuple:
    """(exit code or None, stdout, stderr) of `entry(argv, deps)`, with Deps as a process
    would have them: this environment, stdin empty (/dev/null), output captured."""
    stdout = stdout or _Output()
    stderr = _Output()
    streams = Streams(io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), stdout, stderr)
    code = entry(argv, Deps(env, streams, timing=FAST, cwd=cwd))
    return code, stdout.text() if isinstance(stdout, _Output) else "", stderr.text()


# Where each side's run starts: the program's entry (fast path first), or the full app alone.
PROGRAM, FULL_APP = main.run, cli.run


def _run(nx, side: str, build: Callable, now: float, entry: Callable = PROGRAM):
    """(exit code, stdout, stderr) of `token print` in a world of its own, tokens and config
    path named alike; and whether the fast path answered it itself."""
    config = nx.tmp_path / side
    world = build(nx, config, now)
    env = nx.env_with(NEXLA_CONFIG_DIR=str(config), **world.env)
    argv = ["token", "print", *world.args]
    answered_fast = _answer(fastpath.token_print, argv, env, nx.tmp_path)[0] is not None
    already = len(nx.server.issued)
    code, stdout, stderr = _answer(entry, argv, env, nx.tmp_path)
    issued = nx.server.issued[already:]
    outcome = (
        code,
        _normalised(stdout, world, issued, config),
        _normalised(stderr, world, issued, config),
    )
    nx.server.clear_faults()
    return outcome, answered_fast


@pytest.mark.parametrize("case", list(CASES))
def test_token_print_answers_as_the_full_app(nx, case):
    build, answered_fast = CASES[case]

    now = int(time.time())  # both sides store the very same times
    full, _ = _run(nx, "full-app", build, now, FULL_APP)
    program, fast = _run(nx, "program", build, now)

    assert program == full
    assert fast == answered_fast, "fast path taken" if answered_fast else "fast path not taken"


def _run_installed(nx, build: Callable, now: float):
    """The installed `nexla token print` in a world of its own: its outcome as _run gives
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
        _normalised(result.stdout, world, issued, config),
        _normalised(stderr, world, issued, config),
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


@pytest.mark.e2e  # what a fresh interpreter imports
@pytest.mark.parametrize("case", INSTALLED_CASES)
def test_the_installed_command_takes_the_fast_path_where_it_answers(nx, case):
    build, answered_fast = CASES[case]

    now = int(time.time())  # both sides store the very same times
    full, _ = _run(nx, "full-app", build, now, FULL_APP)
    installed, modules = _run_installed(nx, build, now)

    assert installed == full
    assert ("typer" not in modules) == answered_fast, "fast path taken" if answered_fast else ""


def test_fresh_outcomes_are_what_the_contract_says(nx):
    # Parity alone would pass if both sides were wrong in the same way.
    outcome, _ = _run(nx, "program", CASES["fresh"][0], time.time())
    assert outcome == (0, "<stored token>\n", "")
    outcome, _ = _run(nx, "variable", CASES["NEXLA_ACCESS_TOKEN, no store"][0], time.time())
    assert outcome == (0, "tok-variable\n", "")
    code, stdout, stderr = _run(nx, "group", CASES["group-readable file"][0], time.time())[0]
    assert (code, stdout) == (0, "<stored token>\n")
    assert stderr == (
        "warning: <config>/credentials.json is accessible by group or others (mode 0640); "
        "run `chmod 600 <config>/credentials.json`\n"
    )
    assert nx.server.count() == 0  # a fresh token needs no request


def test_due_token_is_refreshed_not_printed(nx):
    code, stdout, stderr = _run(nx, "program", CASES["due"][0], time.time())[0]
    assert (code, stdout, stderr) == (0, "<new token 1>\n", "")
    assert nx.server.count("POST", "/token/refresh") == 1


@pytest.mark.parametrize("case", ["no environment", "corrupt store", "expired"])
def test_error_cases_are_left_to_the_full_app(nx, case):
    code, stdout, stderr = _run(nx, "program", CASES[case][0], time.time())[0]
    assert code in (3, 4) and stdout == ""
    assert stderr.startswith("error: ") and "Traceback" not in stderr


@pytest.mark.e2e  # stdout is /dev/full for the installed command
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_failing_stdout_is_reported_as_the_full_app_does(nx):
    outcomes = []
    # The full app in this process, its stdout the same device opened as a text file.
    config = nx.tmp_path / "full-app"
    _fresh(nx, config, int(time.time()))
    full = open("/dev/full", "w", encoding="utf-8")
    try:
        code, _, stderr = _answer(
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
    _fresh(nx, config, int(time.time()))
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
