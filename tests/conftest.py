"""Shared fixtures: the fake Nexla server (one per session, reset for each test) and a
sandboxed environment to run `nexla` in.

Fixtures
- `ca`: one trustme CA for the session (issuing certificates is the slow part).
- `shared_server`: the session's one `FakeNexla` (one per xdist worker).
- `nexla_server`: the fake server for this test: the shared one after `reset()`, or one of
  its own for tests marked `own_server`.
- `fresh_server`: a factory of further servers for this test alone.
- `cli_env`: environment variables for the CLI subprocess (a dict, with extra attributes).
- `browser_log`: the file the fake `$BROWSER` appends each opened URL to.
- `run_nexla`: `run(*args, input=None, env=None, timeout=60, cwd=None)` -> CompletedProcess.
- `nx`: all of the above in one object; `nx.ok(...)` / `nx.fails(code, ...)` run and check
  the exit code.
- `api`, `api_by_variable`: nx signed in, or with a token in the variables (`nexla api`).
- `seeded`: nx with one signed-in environment and an empty request log; the store's bytes.
"""

from __future__ import annotations

import os
import shlex
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme

from nexla_cli.core.runtime import Timing
from tests.support.fake_nexla import FakeNexla
from tests.support.inprocess import FAST, run_in_process
from tests.support.other_systems import POSIX_ONLY_E2E, posix_only_skip
from tests.support.outcomes import describe
from tests.support.processes import end_leftover_cli_processes, nexla_executable
from tests.support.signing_in import configure_options, seed, seed_pasted_token
from tests.support.stores import store_bytes

# A suite started in the background by a shell without job control, or under nohup, inherits
# these signals ignored, and every `nexla` it starts would too: Ctrl-C and SIGTERM tests
# would then test nothing. Handlers are reset to the default at exec; "ignored" is not.
# Where PYTHONDONTWRITEBYTECODE is set, every run of the suite (and every xdist worker)
# would rewrite the asserts of every test module again (pytest keeps the rewritten modules
# as bytecode) and compile the package from source: about half of collecting the suite.
# Modules imported after this line keep their compiled form in __pycache__ (ignored by
# git), as the `nexla` processes the tests start do (see _SCRUBBED); nothing tested
# depends on it.
sys.dont_write_bytecode = False

for _name in ("SIGINT", "SIGTERM", "SIGHUP"):
    _signum = getattr(signal, _name, None)
    if _signum is not None and signal.getsignal(_signum) == signal.SIG_IGN:
        signal.signal(
            _signum, signal.default_int_handler if _name == "SIGINT" else signal.SIG_DFL
        )

# Variables that would let the developer's own setup leak into a test: their Nexla settings,
# their browser, their config location and any proxy (which would swallow loopback traffic).
_SCRUBBED = {
    "BROWSER",
    "XDG_CONFIG_HOME",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "CURL_CA_BUNDLE",
    # Their OS keyring: tests that want one start a private Secret Service (test_keyring.py).
    "DBUS_SESSION_BUS_ADDRESS",
    "PYTHON_KEYRING_BACKEND",
    # Lets the first real `nexla` of a run keep its compiled modules, so the others do not
    # compile the package from source again (the CLI's behaviour does not depend on it).
    "PYTHONDONTWRITEBYTECODE",
}


class CliEnv(dict):
    """The environment for a CLI subprocess; a plain dict for subprocess, plus handy paths."""

    config_dir: Path
    browser_log: Path
    home: Path
    tmp_path: Path


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "own_server: give this test a fake server of its own instead of the shared one "
        "(it stops the server, or needs a port no other test has used)",
    )
    config.addinivalue_line(
        "markers",
        "posix_only(reason): needs what only POSIX systems have (a pseudo-terminal, "
        "signals, file modes); skipped on Windows with the reason",
    )


_E2E_DIR = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tier is the directory: every test under tests/e2e is `e2e` (so `-m "not e2e"`
    leaves out what needs a real process), and a test elsewhere may not claim to be. On
    Windows, tests marked `posix_only` (the e2e modules in POSIX_ONLY_E2E among them) are
    skipped, each saying what it needs."""
    for item in items:
        in_e2e = _E2E_DIR in item.path.parents
        if in_e2e:
            item.add_marker(pytest.mark.e2e)
            needs = POSIX_ONLY_E2E.get(item.path.name)
            if needs is not None:
                item.add_marker(pytest.mark.posix_only(reason=needs))
        elif any(mark.name == "e2e" for mark in item.iter_markers()):
            raise pytest.UsageError(
                f"{item.nodeid} is marked e2e outside tests/e2e: move it there"
            )
        posix_only = item.get_closest_marker("posix_only")
        if posix_only is not None:
            skip = posix_only_skip(posix_only.kwargs.get("reason") or "a POSIX system")
            if skip is not None:
                item.add_marker(pytest.mark.skip(reason=skip))


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def shared_server(ca: trustme.CA):
    """The one fake server of this test session (of each xdist worker): see `nexla_server`."""
    server = FakeNexla(ca=ca).start()
    try:
        yield server
    finally:
        server.cleanup()


def _assert_no_internal_errors(server: FakeNexla) -> None:
    # A bug in the fake would otherwise show up only as a puzzling 500 in some CLI test.
    errors, server.errors = list(server.errors), []
    assert not errors, f"the fake Nexla server failed internally: {errors!r}"


@pytest.fixture
def fresh_server(ca: trustme.CA):
    """A factory: `fresh_server()` starts a fake server for this test alone (same CA).

    For a second API host, or a server the test stops or restarts. Each is cleaned up after
    the test, which then fails if the server hit a bug of its own.
    """
    servers: list[FakeNexla] = []

    def start() -> FakeNexla:
        server = FakeNexla(ca=ca).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.cleanup()
    for server in servers:
        _assert_no_internal_errors(server)


@pytest.fixture
def nexla_server(request: pytest.FixtureRequest, shared_server: FakeNexla, fresh_server):
    """The fake server the CLI talks to: the shared one, reset to a fresh start.

    Starting a server per test cost more than most tests; reset() gives each test a server
    in the state of a new one (no tokens, keys, faults or log; default settings) on the same
    port. A test marked `own_server` gets a server of its own from `fresh_server` instead.
    """
    if request.node.get_closest_marker("own_server"):
        yield fresh_server()
        return
    shared_server.reset()
    yield shared_server
    # This test's CLI processes and handlers end here, so none can reach the next test.
    # Only e2e tests start real `nexla` processes; scanning /proc costs the others time.
    if request.node.get_closest_marker("e2e"):
        end_leftover_cli_processes()
    shared_server.settle()
    if not shared_server.running:
        shared_server.start()  # on the same port, for the tests after this one
        pytest.fail("the test stopped the shared fake server: mark it `own_server`")
    _assert_no_internal_errors(shared_server)


def _write_browser_recorder(tmp_path: Path, log: Path) -> Path:
    # Python's webbrowser runs $BROWSER with the URL as its only argument and waits for it,
    # so the URL is in the log by the time the CLI moves on.
    script = tmp_path / "browser.sh"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$1\" >> {shlex.quote(str(log))}\nexit 0\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


@pytest.fixture
def browser_log(tmp_path: Path) -> Path:
    return tmp_path / "browser.log"


@pytest.fixture
def cli_env(nexla_server: FakeNexla, tmp_path: Path, browser_log: Path) -> CliEnv:
    env = CliEnv(
        (name, value)
        for name, value in os.environ.items()
        if not name.startswith("NEXLA_") and name not in _SCRUBBED
    )
    home = tmp_path / "home"
    home.mkdir()
    env.config_dir = tmp_path / "config"  # left uncreated: the CLI must create it 0700
    env.browser_log = browser_log
    env.home = home
    env.tmp_path = tmp_path
    env.update(
        NEXLA_CONFIG_DIR=str(env.config_dir),
        REQUESTS_CA_BUNDLE=nexla_server.ca_bundle,
        NO_COLOR="1",
        NEXLA_TIMEOUT="5",
        BROWSER=str(_write_browser_recorder(tmp_path, browser_log)),
        HOME=str(home),
        # No OS keyring, on every developer's machine alike (macOS and Windows find theirs
        # without D-Bus): a saved key goes to the file, as docs/keyring.md says it then does.
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    return env


RunNexla = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def run_nexla(cli_env: CliEnv, tmp_path: Path, request: pytest.FixtureRequest) -> RunNexla:
    """Runs `nexla`: in this process (tests/support/inprocess.py), or as the installed program for
    tests marked `e2e`, where a real process matters."""
    real_process = request.node.get_closest_marker("e2e") is not None

    def run(
        *args: object,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
        cwd: str | Path | None = None,
        clock: Callable[[], float] | None = None,
        timing: Timing | None = None,
    ) -> subprocess.CompletedProcess:
        """Run `nexla ARGS` to completion; text mode, stdout/stderr captured.

        stdin is /dev/null unless `input` is given, so nothing ever waits on the terminal.
        The working directory defaults to tmp_path so no stray files land in the repo.
        In-process only: `clock` is the run's time (default the real one), `timing` its
        waits (default tests.support.inprocess.FAST); a real process has the real ones.
        """
        if not real_process:
            return run_in_process(
                [str(arg) for arg in args],
                env=cli_env if env is None else env,
                input=input,
                cwd=tmp_path if cwd is None else cwd,
                timeout=timeout,
                clock=clock or time.time,
                timing=timing or FAST,
            )
        if clock is not None or timing is not None:
            raise ValueError("a real process has the real clock and timing: not an e2e test?")
        return subprocess.run(
            [nexla_executable(), *map(str, args)],
            input=input,
            stdin=subprocess.DEVNULL if input is None else None,
            env=cli_env if env is None else env,
            cwd=tmp_path if cwd is None else cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


class Harness:
    """One test's world: the fake server, the CLI environment and a runner."""

    def __init__(self, server: FakeNexla, env: CliEnv, run: RunNexla) -> None:
        self.token = ""  # the token a fixture signed in with (api, api_by_variable)
        self.server = server
        self.env = env
        self.run = run
        self.config_dir = env.config_dir
        self.tmp_path = env.tmp_path

    def ok(self, *args: object, **options) -> subprocess.CompletedProcess:
        """`run(ARGS, **options)` that must exit 0; the run, for what else the test checks.

        A run that does not fails the test with its exit code, stdout and stderr."""
        return self.fails(0, *args, **options)

    def fails(self, code: int, *args: object, **options) -> subprocess.CompletedProcess:
        """`run(ARGS, **options)` that must exit `code`; the run, for what else the test
        checks. A run that does not fails the test with its exit code, stdout and stderr."""
        result = self.run(*args, **options)
        assert result.returncode == code, f"expected exit {code}, got {describe(result)}"
        return result

    def browser_log(self) -> list[str]:
        """URLs the CLI opened in the (fake) browser, in order."""
        log = self.env.browser_log
        return log.read_text().splitlines() if log.exists() else []

    def env_with(self, **changes: str | None) -> dict[str, str]:
        """A copy of the CLI environment with variables set, or removed where the value is None."""
        env = dict(self.env)
        for name, value in changes.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def sign_in(self, token: str | None = None, *extra: str) -> str:
        """Sign in to the fake server's environment with a pasted token; returns the token.

        The store is seeded with exactly what `nexla env configure HOST --with-token EXTRA`
        would keep (tests/support/signing_in.py), without running it: no process, no request in the
        server's log. `extra` may be `--api-url URL` and `--no-verify`. A token not given is
        issued by the server first. Tests of configure itself use `sign_in_with_cli`.
        """
        token = token or self.server.issue_token()
        api_url, verify = configure_options(extra)
        seed_pasted_token(self.config_dir, self.server, token, api_url=api_url, verify=verify)
        return token

    def sign_in_with_cli(self, token: str | None = None, *extra: str) -> str:
        """Sign in by running `nexla env configure HOST --with-token EXTRA`, as README.md
        describes; returns the token. Fails the test with the CLI's output if that fails."""
        token = token or self.server.issue_token()
        self.ok("env", "configure", self.server.host, "--with-token", *extra, input=token + "\n")
        return token


@pytest.fixture
def nx(nexla_server: FakeNexla, cli_env: CliEnv, run_nexla: RunNexla) -> Harness:
    return Harness(nexla_server, cli_env, run_nexla)


@pytest.fixture
def api(nx: Harness) -> Harness:
    """nx signed in to the fake server (nothing in its log yet), the token as `nx.token`:
    for the tests of `nexla api`."""
    nx.token = nx.sign_in()
    return nx


@pytest.fixture
def api_by_variable(nx: Harness) -> Harness:
    """nx with a valid token and the API URL in the variables, the token as `nx.token`: no
    sign-in, so cheap, and any request the CLI wrongly sent would succeed (so "no request"
    assertions mean something)."""
    nx.token = nx.server.issue_token()
    nx.env.update(NEXLA_ACCESS_TOKEN=nx.token, NEXLA_API_URL=nx.server.api_url)
    return nx


@pytest.fixture
def seeded(nx: Harness) -> bytes | None:
    """A store with one signed-in environment; returns its bytes to compare against."""
    seed(nx)
    nx.server.clear_log()
    return store_bytes(nx.config_dir)
