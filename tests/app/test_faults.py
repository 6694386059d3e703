"""Fault injection: every way the API can misbehave, against every command that talks to it.

For each (command, fault) README.md fixes the exit code, a one-line message (never an HTML
page or a traceback), what is stored afterwards, and how often the request may be sent:
- GET is retried on connection errors (a reset, a hang), 429, 502, 503 and 504;
- POST only on 429 and 503 (the server says it did not process it);
- a 500, a body that is not what the API promises, a redirect and an untrusted certificate
  are never retried, and a redirect is never followed.

Transient faults happen once: where docs/reliability.md allows a retry the command succeeds on the
second request (the server saw exactly two), and where it does not the command fails after
exactly one. The others happen every time.

What a failure may change in the store: nothing, byte for byte, except on the refresh paths
(`token refresh`, `token print` of a due token), which leave the documented `refresh_failure`
memo on the session so that other processes do not retry within 30 seconds. `env logout`
is best effort: the session is forgotten locally whatever the server does.
"""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import time
from typing import Callable

import pytest

from nexla_cli.core.runtime import Timing
from tests.support.fake_nexla import FakeNexla, Fault
from tests.support.outcomes import (
    HTML_PAGE,
    assert_error,
    assert_presentable,
    describe,
    warnings_in,
)
from tests.support.signing_in import seed
from tests.support.stores import read_store, store_bytes, stored_session, without_memo, write_store

NETWORK = 5

# NEXLA_TIMEOUT for the hang cases: each costs one timeout of waiting. Short, but the retry
# that follows the hang must still connect and answer within it (the server runs in this
# very process, a loopback round trip of a few milliseconds): 0.3 s held on a machine
# loaded to five times its cores.
HANG_TIMEOUT = 0.3

# The one (command, 429) case that waits out the real `Retry-After: 1` with the product's
# own Timing; every command shares that retry policy (nexla_cli/http/client.py). The other
# commands' 429 cases cap the wait at RETRY_AFTER_CAP, as the product does at
# Timing.max_retry_after (10 s): each still proves that it waits for the header, and that
# the cap bounds the wait, in a fifth of the time.
REAL_RETRY_AFTER_COMMAND = "token refresh"
RETRY_AFTER_CAP = 0.2


class PlainListener:
    """A plain-TCP socket on loopback that serves nothing: it only tells whether anyone came."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connections(self) -> int:
        """Connections accepted (and closed) since the last call."""
        seen = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return seen
            conn.close()
            seen += 1

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def elsewhere(ca):
    """Another API host the CLI trusts: a redirect must never bring a credential here."""
    server = FakeNexla(ca=ca)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def untrusted():
    """An API host whose certificate comes from a CA the CLI was not told to trust."""
    server = FakeNexla()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def plain_http():
    listener = PlainListener()
    yield listener
    listener.close()


@dataclasses.dataclass
class World:
    nx: object
    elsewhere: FakeNexla
    untrusted: FakeNexla
    plain_http: PlainListener


@pytest.fixture
def world(nx, elsewhere, untrusted, plain_http):
    elsewhere.clear_log()
    untrusted.clear_log()
    plain_http.connections()
    return World(nx, elsewhere, untrusted, plain_http)


# ---- the faults ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FaultCase:
    name: str
    make: Callable[[World, str], Fault]  # (world, the faulted path) -> Fault
    times: int | None  # 1: transient; None: every request
    retried_by: frozenset  # methods allowed to retry this fault
    needles: tuple  # one of these is in the message
    token_endpoints_only: bool = False  # a fault only a token response can have
    logout_ignores: bool = False  # logout does not read the body: not a fault for it
    via_untrusted: bool = False  # reach the untrusted server instead (the stored API URL)
    hangs: bool = False  # the request waits for the client's timeout


BOTH = frozenset({"GET", "POST"})
GET_ONLY = frozenset({"GET"})
NEVER = frozenset()

FAULTS = [
    FaultCase(
        "500-html",
        lambda w, p: Fault.status(500, HTML_PAGE, content_type="text/html"),
        None,
        NEVER,
        ("HTTP 500",),
    ),
    FaultCase(
        "502-html",
        lambda w, p: Fault.status(502, HTML_PAGE, content_type="text/html"),
        1,
        GET_ONLY,
        ("HTTP 502",),
    ),
    FaultCase("503", lambda w, p: Fault.status(503, ""), 1, BOTH, ("HTTP 503",)),
    FaultCase(
        "504-html",
        lambda w, p: Fault.status(504, HTML_PAGE, content_type="text/html"),
        1,
        GET_ONLY,
        ("HTTP 504",),
    ),
    FaultCase(
        "429-retry-after",
        lambda w, p: Fault.status(429, {"message": "Slow down"}, headers={"Retry-After": "1"}),
        1,
        BOTH,
        ("Slow down", "429"),
    ),
    FaultCase("hang", lambda w, p: Fault.hang(30), 1, GET_ONLY, ("timed out",), hangs=True),
    FaultCase("reset", lambda w, p: Fault.reset(), 1, GET_ONLY, ("reset", "broke")),
    FaultCase(
        "200-not-json",
        lambda w, p: Fault.body(200, HTML_PAGE, content_type="text/html"),
        None,
        NEVER,
        ("not JSON",),
        logout_ignores=True,
    ),
    FaultCase(
        "200-no-access-token",
        lambda w, p: Fault.body(200, '{"token_type": "Bearer", "expires_in": 3600}'),
        None,
        NEVER,
        ("access_token",),
        token_endpoints_only=True,
        logout_ignores=True,
    ),
    FaultCase(
        "redirect-to-http",
        lambda w, p: Fault.redirect(f"http://127.0.0.1:{w.plain_http.port}/nexla-api{p}"),
        None,
        NEVER,
        ("redirect",),
    ),
    FaultCase(
        "redirect-to-other-host",
        lambda w, p: Fault.redirect(f"https://localhost:{w.elsewhere.port}/nexla-api{p}", 307),
        None,
        NEVER,
        ("redirect",),
    ),
    FaultCase(
        "untrusted-certificate",
        lambda w, p: None,
        None,
        NEVER,
        ("TLS", "certificate"),
        via_untrusted=True,
    ),
]


# ---- the commands --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Command:
    name: str
    kind: str  # "sign-in", "check", "refresh", "mint", "print", "logout"
    method: str
    path: str
    args: tuple  # "{host}" stands for the fake server's environment name

    def prepare(self, nx) -> dict:
        """Seed the store; returns the run's args, stdin, extra env and what the test needs."""
        key = "svc-" + "k" * 40
        nx.server.add_service_key(key)
        if self.kind == "print":
            # A pasted token inside its margin (about 100 s left of an estimated hour).
            old = seed(nx, lifetime=3600, age=3500)
        else:
            old = seed(nx)
        new = nx.server.issue_token()
        args = [arg.format(host=nx.server.host) for arg in self.args]
        stdin = new + "\n" if self.kind == "sign-in" else None
        env = {"NEXLA_SERVICE_KEY": key} if self.kind == "mint" else {}
        return {"args": args, "stdin": stdin, "env": env, "old": old, "new": new, "key": key}


COMMANDS = [
    Command(
        "env configure",
        "sign-in",
        "GET",
        "/users/current",
        ("env", "configure", "{host}", "--with-token"),
    ),
    Command("env login", "sign-in", "GET", "/users/current", ("env", "login", "--with-token")),
    Command("env show --check", "check", "GET", "/users/current", ("env", "show", "--check")),
    Command("token refresh", "refresh", "POST", "/token/refresh", ("token", "refresh")),
    Command("token from-key", "mint", "POST", "/token", ("token", "from-key")),
    Command("token print (due)", "print", "POST", "/token/refresh", ("token", "print")),
    Command("env logout", "logout", "POST", "/token/logout", ("env", "logout")),
]

TOKEN_ENDPOINTS = {"/token", "/token/refresh"}

CASES = [
    pytest.param(command, fault, id=f"{command.name}|{fault.name}")
    for command in COMMANDS
    for fault in FAULTS
    if not (fault.token_endpoints_only and command.path not in TOKEN_ENDPOINTS)
]


@pytest.mark.parametrize("command, fault", CASES)
def test_fault(world, command: Command, fault: FaultCase):
    nx = world.nx
    setup = command.prepare(nx)
    if fault.via_untrusted:
        # The environment's own API is the untrusted one: NEXLA_API_URL naming another host
        # would be refused before anything is sent (docs/sessions.md).
        data = read_store(nx.config_dir)
        data["environments"][nx.server.host]["api_url"] = world.untrusted.api_url
        write_store(nx.config_dir, data["environments"], data["current"])
    before = store_bytes(nx.config_dir)
    # Short for the hang cases; the other faults answer at once (cli_env's timeout stands).
    variables = {"NEXLA_TIMEOUT": str(HANG_TIMEOUT)} if fault.hangs else {}
    variables.update(setup["env"])
    rate_limited = fault.name.startswith("429")
    real_retry_after = rate_limited and command.name == REAL_RETRY_AFTER_COMMAND
    # None: the runner's default (no backoff; Retry-After honoured up to the product's cap).
    timing = None
    if real_retry_after:
        timing = Timing()
    elif rate_limited:
        timing = Timing(retry_backoff=0, max_retry_after=RETRY_AFTER_CAP)
    if not fault.via_untrusted:
        nx.server.add_fault(
            command.method, command.path, fault.make(world, command.path), times=fault.times
        )
    nx.server.clear_log()

    result = nx.run(
        *setup["args"], input=setup["stdin"], env=nx.env_with(**variables), timing=timing
    )

    assert_presentable(result)
    # No credential ever leaves for another host or over plain HTTP, whatever the fault.
    assert world.elsewhere.requests == []
    assert world.plain_http.connections() == 0
    assert world.untrusted.requests == []

    retried = command.method in fault.retried_by
    recovers = fault.times == 1 and retried
    sent = nx.server.count(command.method, command.path)
    if fault.via_untrusted:
        assert sent == 0
    else:
        assert sent == (2 if recovers else 1), f"{sent} requests\n{describe(result)}"
    assert nx.server.count() == sent, "no other request was made"
    if recovers and rate_limited:
        first, second = nx.server.find(command.method, command.path)
        waited = second.time - first.time
        if real_retry_after:
            assert waited >= 0.9, "Retry-After: 1 was not honoured"
        else:
            # It waited for the header, but no longer than the cap.
            assert RETRY_AFTER_CAP <= waited < 0.9, f"waited {waited:.2f}s"

    if command.kind == "logout":
        _check_logout(nx, setup, result, fault, recovers)
    elif recovers:
        _check_success(nx, command, setup, before, result)
    else:
        _check_failure(nx, command, setup, before, result, fault)


def _check_success(nx, command, setup, before, result):
    assert result.returncode == 0, describe(result)
    assert "error:" not in result.stderr
    stored = stored_session(nx)
    if command.kind == "check":
        assert store_bytes(nx.config_dir) == before
        return
    if command.kind == "sign-in":
        assert stored["access_token"] == setup["new"]
    else:
        assert stored["access_token"] not in (setup["old"], setup["new"])
        assert nx.server.is_valid(stored["access_token"])
    if command.kind == "print":
        assert result.stdout == stored["access_token"] + "\n"


def _assert_network_error(result, command, *needles):
    """assert_error, except that `env show --check` shows the environment on stdout before
    the error, as `env list --check` does (docs/usage.md)."""
    if command.kind == "check":
        assert "Server check: server not reached" in result.stdout, describe(result)
        result = subprocess.CompletedProcess(result.args, result.returncode, "", result.stderr)
    assert_error(result, NETWORK, *needles)


def _check_failure(nx, command, setup, before, result, fault):
    if command.kind == "print":
        # The old token is still valid: it is used, with a one-line warning.
        assert result.returncode == 0, describe(result)
        assert result.stdout == setup["old"] + "\n"
        assert "error:" not in result.stderr
        (warning,) = warnings_in(result)
        assert any(n.lower() in warning.lower() for n in fault.needles), describe(result)
    else:
        _assert_network_error(result, command, *fault.needles)
    after = store_bytes(nx.config_dir)
    if command.kind in ("refresh", "print"):
        data = read_store(nx.config_dir)
        memo = data["environments"][nx.server.host]["session"].get("refresh_failure")
        assert memo and memo["kind"] == "unreachable", data
        assert without_memo(data) == without_memo(_parse(before))
    else:
        assert after == before, "a failed command changed the store"
    assert nx.server.is_valid(setup["old"]), "the old token must still work"


def _check_logout(nx, setup, result, fault, recovers):
    assert result.returncode == 0, describe(result)
    assert "error:" not in result.stderr
    assert setup["old"] not in store_bytes(nx.config_dir).decode()
    assert "session" not in read_store(nx.config_dir)["environments"][nx.server.host]
    failed = not recovers and not fault.logout_ignores
    warnings = warnings_in(result)
    if failed:
        assert len(warnings) == 1, describe(result)
        assert any(n.lower() in warnings[0].lower() for n in fault.needles), describe(result)
        assert "forgot it locally" in warnings[0]
    else:
        assert warnings == [], describe(result)
        assert not nx.server.is_valid(setup["old"]) or fault.logout_ignores


def _parse(raw: bytes) -> dict:
    import json

    return json.loads(raw)


# ---- faults that persist: retries run out ---------------------------------------------------


PERSISTENT = [
    # (command, fault, times the request is sent: 1 + 3 retries where allowed)
    pytest.param(COMMANDS[2], Fault.status(500, ""), 1, ("HTTP 500",), id="check|500-always"),
    pytest.param(
        COMMANDS[3],
        Fault.status(429, {"message": "Slow down"}, headers={"Retry-After": "0"}),
        4,
        ("rate limited",),
        id="refresh|429-always",
    ),
    pytest.param(COMMANDS[3], Fault.status(500, ""), 1, ("HTTP 500",), id="refresh|500-always"),
    pytest.param(COMMANDS[3], Fault.reset(), 1, ("reset", "broke"), id="refresh|reset-always"),
    pytest.param(COMMANDS[0], Fault.reset(), 4, ("reset", "broke"), id="configure|reset-always"),
]


@pytest.mark.parametrize("command, fault, sent, needles", PERSISTENT)
def test_persistent_fault_exhausts_retries(nx, command, fault, sent, needles):
    setup = command.prepare(nx)
    before = store_bytes(nx.config_dir)
    nx.server.add_fault(command.method, command.path, fault, times=None)
    nx.server.clear_log()

    result = nx.run(*setup["args"], input=setup["stdin"], env=nx.env_with(**setup["env"]))

    _assert_network_error(result, command, *needles)
    assert nx.server.count(command.method, command.path) == sent
    if command.kind == "refresh":
        assert without_memo(read_store(nx.config_dir)) == without_memo(_parse(before))
    else:
        assert store_bytes(nx.config_dir) == before


def test_hang_fails_within_about_one_timeout(nx):
    """A POST that hangs is abandoned after one timeout and not sent again."""
    seed(nx)
    before = store_bytes(nx.config_dir)
    nx.server.add_fault("POST", "/token/refresh", Fault.hang(60), times=None)
    started = time.monotonic()
    result = nx.run("token", "refresh", env=nx.env_with(NEXLA_TIMEOUT=str(HANG_TIMEOUT)))
    elapsed = time.monotonic() - started
    assert_error(result, NETWORK, "timed out")
    assert nx.server.count("POST", "/token/refresh") == 1
    # An attempt may last connect + read timeout; the rest is slack for a loaded machine.
    # Nowhere near the hang's 60 s.
    assert elapsed < 3 * HANG_TIMEOUT + 1.5, f"took {elapsed:.1f}s"
    assert without_memo(read_store(nx.config_dir)) == without_memo(_parse(before))


def test_expired_token_with_failing_refresh_is_exit_5_not_4(nx):
    """Decisions: once the old token has expired, a server failure is exit 5."""
    old = seed(nx, lifetime=3600, age=3700)
    nx.server.add_fault("POST", "/token/refresh", Fault.status(500, HTML_PAGE), times=None)
    result = nx.run("token", "print")
    assert_error(result, NETWORK, "expired")
    assert old not in result.stdout + result.stderr
    assert nx.server.count("POST", "/token/refresh") == 1


@pytest.mark.own_server  # it stops the server
def test_connection_refused_is_exit_5_and_changes_nothing(nx):
    seed(nx)
    before = store_bytes(nx.config_dir)
    nx.server.stop()
    # A connection that fails before the request is sent may be retried even for a POST.
    result = nx.run("token", "from-key", env=nx.env_with(NEXLA_SERVICE_KEY="svc-key"))
    assert_error(result, NETWORK, "connection refused")
    assert store_bytes(nx.config_dir) == before


def test_an_unexpected_failure_is_one_line_and_exit_1(monkeypatch, capsys, tmp_path):
    """A bug (here: an exception no code path expects) is `error: unexpected …`, exit 1."""
    from nexla_cli.auth import renewal
    from tests.support.inprocess import run_in_process

    def broken(*args, **kwargs):
        raise RuntimeError("internal detail tok-do-not-show")

    monkeypatch.setattr(renewal, "live_token", broken)
    captured = run_in_process(["token", "print"], env={"NEXLA_CONFIG_DIR": str(tmp_path)})
    assert captured.returncode == 1
    assert captured.stdout == ""
    assert captured.stderr.splitlines() == [
        "error: unexpected RuntimeError",
        "hint: this is a bug; rerun with --debug",
    ]


def test_a_get_failing_both_ways_shares_one_retry_budget(nx):
    """Retries before the headers (urllib3) and after them (a broken body) share one budget:
    three 503s then a reset mid-body end the call after 4 sends, not up to 16."""
    setup = COMMANDS[0].prepare(nx)  # env configure: GET /users/current
    before = store_bytes(nx.config_dir) if (nx.config_dir / "credentials.json").exists() else None
    for _ in range(4):
        for _ in range(3):
            nx.server.add_fault("GET", "/users/current", Fault.status(503, ""))
        nx.server.add_fault("GET", "/users/current", Fault.reset())
    nx.server.clear_log()

    result = nx.run(*setup["args"], input=setup["stdin"], env=nx.env_with(**setup["env"]))

    assert_error(result, NETWORK, "broke")
    assert nx.server.count("GET", "/users/current") == 4
    after = store_bytes(nx.config_dir) if (nx.config_dir / "credentials.json").exists() else None
    assert after == before
