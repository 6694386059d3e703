"""The worlds the fast path's tests build twice, once for `nexla token print` through the
program's entry (main.run) and once for the full app (cli.run), and the runs that compare them."""

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nexla_cli import main
from nexla_cli.cli import root as cli
from nexla_cli.core.runtime import Streams
from nexla_cli.deps import Deps
from nexla_cli.fast import fastpath
from tests.support.fake_nexla import Fault
from tests.support.inprocess import FAST
from tests.support.startup import seed_store, session_record

OTHER = "other.example.com"


@dataclass
class World:
    """What one side runs with: its arguments, variables, and the token it was seeded with."""

    args: list
    env: dict = field(default_factory=dict)
    token: str = ""


def fresh_world(nx, config: Path, now: int) -> World:
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
    world = fresh_world(nx, config, now)
    (config / "credentials.json").chmod(0o640)
    return world


def _access_token(value: str, with_store: bool) -> Callable:
    def build(nx, config: Path, now: int) -> World:
        world = fresh_world(nx, config, now) if with_store else World([])
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
    "fresh": (fresh_world, True),
    "fresh, --env NAME": (_with(fresh_world, ["--env", "HOST"]), True),
    "fresh, -e NAME": (_with(fresh_world, ["-e", "HOST"]), True),
    "fresh, --env=NAME": (_with(fresh_world, ["--env=HOST"]), True),
    "fresh, NEXLA_ENV over the current one": (_with(_two_envs, NEXLA_ENV="HOST"), True),
    "fresh, --env over NEXLA_ENV": (_with(_two_envs, ["--env", "HOST"], NEXLA_ENV=OTHER), True),
    "fresh, NEXLA_ACCESS_TOKEN wins": (_access_token("tok-variable", True), True),
    "NEXLA_ACCESS_TOKEN, no store": (_access_token("  tok-variable \n", False), True),
    "NEXLA_ACCESS_TOKEN blank, store": (_access_token("  ", True), True),
    "group-readable file": (_group_readable, True),
    "due": (_due, False),
    "due, NEXLA_REFRESH_MARGIN": (_with(fresh_world, NEXLA_REFRESH_MARGIN="3500"), False),
    "due, refresh fails": (_due_server_failing, False),
    "expired": (_expired, False),
    "rejected by the server before": (_rejected, False),
    "not signed in": (_signed_out, False),
    "no environment": (_no_environment, False),
    "none current": (_none_current, False),
    "unknown --env": (_with(fresh_world, ["--env", OTHER]), False),
    "unknown NEXLA_ENV": (_with(fresh_world, NEXLA_ENV=OTHER), False),
    "name needing normalisation": (_with(fresh_world, ["--env", "https://HOST/token"]), False),
    "empty --env=": (_with(fresh_world, ["--env="]), False),
    "invalid host": (_with(fresh_world, ["-e", "http://HOST"]), False),
    "corrupt store": (_corrupt, False),
    "invalid NEXLA_REFRESH_MARGIN": (_with(fresh_world, NEXLA_REFRESH_MARGIN="soon"), False),
    # Every setting is checked even when a fresh token needs no timeout or lock.
    "invalid NEXLA_TIMEOUT, fresh": (_with(fresh_world, NEXLA_TIMEOUT="abc"), False),
    "invalid NEXLA_LOCK_TIMEOUT, fresh": (_with(fresh_world, NEXLA_LOCK_TIMEOUT="-1"), False),
    "NEXLA_ACCESS_TOKEN with a newline": (_access_token("tok-a\ntok-b", False), False),
    "empty NEXLA_ENV is unset": (_with(fresh_world, NEXLA_ENV=""), True),
    "another option": (_with(fresh_world, ["--json"]), False),
    "an extra argument": (_with(fresh_world, ["--env", "HOST", "extra"]), False),
    "--help": (_with(fresh_world, ["--help"]), False),
    # --min-ttl (docs/scripting.md): answered here when the token has that long left.
    "fresh, --min-ttl within its life": (_with(fresh_world, ["--min-ttl", "2000"]), True),
    "fresh, --min-ttl=N and --env": (_with(fresh_world, ["--min-ttl=2000", "-e", "HOST"]), True),
    "fresh, --env then --min-ttl 0": (_with(fresh_world, ["--env=HOST", "--min-ttl", "0"]), True),
    "fresh, --min-ttl beyond its life": (_with(fresh_world, ["--min-ttl", "3300"]), False),
    "fresh, --min-ttl beyond the server's": (_with(fresh_world, ["--min-ttl", "9000"]), False),
    "--min-ttl twice": (_with(fresh_world, ["--min-ttl", "1", "--min-ttl", "9000"]), False),
    "--min-ttl with a sign": (_with(fresh_world, ["--min-ttl", "+20"]), False),
    "--min-ttl negative": (_with(fresh_world, ["--min-ttl", "-1"]), False),
    "--min-ttl not a number": (_with(fresh_world, ["--min-ttl", "soon"]), False),
    "--min-ttl without a value": (_with(fresh_world, ["--min-ttl"]), False),
    "--min-ttl=": (_with(fresh_world, ["--min-ttl="]), False),
    "-e=NAME": (_with(fresh_world, ["-e=HOST"]), False),
    "NEXLA_ACCESS_TOKEN, --min-ttl": (
        _with(_access_token("tok-variable", True), ["--min-ttl", "60"]),
        False,
    ),
    "NEXLA_ACCESS_TOKEN, --min-ttl 0": (
        _with(_access_token("tok-variable", True), ["--min-ttl", "0"]),
        True,
    ),
}


def normalised(text: str, world: World, issued: list, config: Path) -> str:
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


def answer_with(entry: Callable, argv: list, env: dict, cwd: Path, stdout=None) -> tuple:
    """(exit code or None, stdout, stderr) of `entry(argv, deps)`, with Deps as a process
    would have them: this environment, stdin empty (/dev/null), output captured."""
    stdout = stdout or _Output()
    stderr = _Output()
    streams = Streams(io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), stdout, stderr)
    code = entry(argv, Deps(env, streams, timing=FAST, cwd=cwd))
    return code, stdout.text() if isinstance(stdout, _Output) else "", stderr.text()


# Where each side's run starts: the program's entry (fast path first), or the full app alone.
PROGRAM = main.run


FULL_APP = cli.run


def run_side(nx, side: str, build: Callable, now: float, entry: Callable = PROGRAM):
    """(exit code, stdout, stderr) of `token print` in a world of its own, tokens and config
    path named alike; and whether the fast path answered it itself."""
    config = nx.tmp_path / side
    world = build(nx, config, now)
    env = nx.env_with(NEXLA_CONFIG_DIR=str(config), **world.env)
    argv = ["token", "print", *world.args]
    answered_fast = answer_with(fastpath.token_print, argv, env, nx.tmp_path)[0] is not None
    already = len(nx.server.issued)
    code, stdout, stderr = answer_with(entry, argv, env, nx.tmp_path)
    issued = nx.server.issued[already:]
    outcome = (
        code,
        normalised(stdout, world, issued, config),
        normalised(stderr, world, issued, config),
    )
    nx.server.clear_faults()
    return outcome, answered_fast
