"""Time is bounded however slowly a server sends (docs/network.md, "Timeouts").

The answers here come a byte every PAUSE seconds, so no single read ever waits long enough
to trip a socket timeout. With NEXLA_TIMEOUT=0.5 one attempt at a session endpoint must
end within 0.5 + 0.5 seconds of its start; the bounds asserted add room for a loaded
machine (and for process start-up where a test starts processes), and stay far below what
the trickle would take.

The fake server's own trickle pauses half a second or more between steps, which would need
a read timeout of about a second; `PacedFront` below passes the fake's answers on at the
pace a test sets, so every wait here is a fraction of a second.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from dataclasses import dataclass

import pytest

from tests.fake_nexla import Fault
from tests.inprocess import run_in_process
from tests.processes import collect, start
from tests.signing_in import session_record
from tests.stores import read_store, without_memo, write_store

TIMEOUT = 0.5
ATTEMPT = 2 * TIMEOUT  # connect + read timeout
# A step well inside the read timeout, so a pause never trips it even on a busy machine.
PAUSE = 0.1
SLACK = 1.0  # in this process: a loaded machine's delays, no start-up
STARTING_SLACK = 4.0  # processes started by the test: their start-up on two busy cores


@dataclass
class Pace:
    """How the front passes an answer on: `step` bytes every `pause` seconds, from the first
    byte of the body, or from the status line on when `headers_too`."""

    pause: float = PAUSE
    step: int = 1
    headers_too: bool = False


class PacedFront:
    """A TLS server on loopback that sends each request to the fake server and passes the
    fake's answer back at `pace`. The fake logs, counts and answers the request as always
    (a refresh still rotates the token); only the pace of the answer is this front's."""

    def __init__(self, ca, target) -> None:
        self._target = target
        self._server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(self._server_tls)
        self._client_tls = ssl.create_default_context(cafile=target.ca_bundle)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self.api_url = f"https://localhost:{self.port}/nexla-api"
        self.pace = Pace()
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._spawn(self._accept_loop)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def stop(self) -> None:
        self._stopped.set()  # ends every pause: the connections close unanswered
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        pace = self.pace
        conn.settimeout(30)
        with contextlib.suppress(OSError), conn:  # the client gave up: as it should
            with self._server_tls.wrap_socket(conn, server_side=True) as client:
                request = _read_request(client)
                if request:
                    self._pass_on(client, self._answer_of(request), pace)

    def _answer_of(self, request: bytes) -> bytes:
        """The fake's whole answer (it closes each connection after one)."""
        raw = socket.create_connection(("127.0.0.1", self._target.port), timeout=30)
        with self._client_tls.wrap_socket(raw, server_hostname="localhost") as upstream:
            upstream.sendall(request)
            chunks = []
            while chunk := upstream.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def _pass_on(self, client: ssl.SSLSocket, answer: bytes, pace: Pace) -> None:
        if not pace.headers_too:
            head, _, body = answer.partition(b"\r\n\r\n")
            client.sendall(head + b"\r\n\r\n")
            answer = body
        for begin in range(0, len(answer), pace.step):
            client.sendall(answer[begin : begin + pace.step])
            if self._stopped.wait(pace.pause):
                return


def _read_request(client: ssl.SSLSocket) -> bytes:
    """One request's bytes: the head, then the body its Content-Length announces."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head = data.partition(b"\r\n\r\n")[0].decode("latin-1").lower()
    assert "transfer-encoding: chunked" not in head  # nexla sends bodies with a length
    length = 0
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip() == "content-length":
            length = int(value)
    while len(data.partition(b"\r\n\r\n")[2]) < length:
        chunk = client.recv(65536)
        if not chunk:
            return b""
        data += chunk
    return data


@pytest.fixture
def front(nx, ca):
    paced = PacedFront(ca, nx.server)
    yield paced
    paced.stop()


def seed_behind(nx, front: PacedFront, **session) -> str:
    """The fake server's environment, signed in, with its API reached through `front`."""
    token = nx.server.issue_token()
    environment = {"api_url": front.api_url, "session": session_record(token, **session)}
    write_store(nx.config_dir, {nx.server.host: environment}, nx.server.host)
    return token


def slow_env(nx, **extra: str) -> dict:
    return nx.env_with(NEXLA_TIMEOUT=str(TIMEOUT), **extra)


def timed_run(nx, *args: str):
    """`nexla ARGS` in this process with NEXLA_TIMEOUT; its result and its wall time."""
    began = time.monotonic()
    result = nx.run(*args, env=slow_env(nx))
    return result, time.monotonic() - began


def test_a_trickled_refresh_ends_within_one_attempt(nx, front):
    """A refresh answered a byte at a time fails within connect + read timeout (exit 5),
    and only the remembered failure is stored."""
    seed_behind(nx, front, lifetime=3600, age=3540)  # due, still valid
    before = read_store(nx.config_dir)
    result, seconds = timed_run(nx, "token", "refresh")
    assert result.returncode == 5, result.stderr
    assert f"did not answer within {ATTEMPT:g} seconds" in result.stderr
    assert seconds < ATTEMPT + SLACK, seconds
    assert nx.server.count("POST", "/token/refresh") == 1
    assert without_memo(read_store(nx.config_dir)) == before


def test_a_trickled_status_line_and_headers_end_within_one_attempt(nx, front):
    seed_behind(nx, front, lifetime=3600, age=3540)
    front.pace = Pace(headers_too=True)
    result, seconds = timed_run(nx, "token", "refresh")
    assert result.returncode == 5, result.stderr
    assert seconds < ATTEMPT + SLACK, seconds


@pytest.mark.e2e  # four nexla processes at once
def test_a_crowd_behind_a_trickled_refresh_finishes_in_about_one_attempt(nx, front):
    """Four `token print` on a due, valid token while the refresh trickles: one attempt,
    then every process prints the current token (with a warning), none fails on the lock."""
    token = seed_behind(nx, front, lifetime=3600, age=3540)
    commands = [("token", "print")] * 4
    results = collect([start(nx, *c, env=slow_env(nx)) for c in commands])
    ended = time.time()
    assert [r.returncode for r in results] == [0] * 4, [r.stderr for r in results]
    assert {r.stdout for r in results} == {token + "\n"}
    assert nx.server.count("POST", "/token/refresh") == 1
    # Counted from the one attempt: the processes' start-up before it is not the bound's.
    attempt = nx.server.find("POST", "/token/refresh")[0].time
    assert ended - attempt < ATTEMPT + STARTING_SLACK, ended - attempt


def test_a_get_that_trickles_every_time_ends_within_its_attempts_and_backoff(nx, front):
    """GET /users/current is retried (3 times); each attempt is cut at its deadline, so the
    whole command ends within 4 attempts plus the backoff between them."""
    token = seed_behind(nx, front)
    result, seconds = timed_run(nx, "env", "show", "--check")
    assert result.returncode == 5, result.stderr
    assert token not in result.stderr
    assert nx.server.count("GET", "/users/current") == 4
    # In this process retries go out at once (tests/inprocess.py: FAST); the real 0, 1 and
    # 2 s pauses are test_retries_wait_the_real_backoff_schedule's.
    backoff = 0
    assert seconds < 4 * ATTEMPT + backoff + SLACK, seconds


def test_api_headers_trickled_end_within_one_attempt(nx, front):
    seed_behind(nx, front)
    front.pace = Pace(headers_too=True)
    result, seconds = timed_run(nx, "api", "-X", "POST", "/teams", "-f", "name=x")
    assert result.returncode == 5, result.stderr
    assert seconds < ATTEMPT + SLACK, seconds
    assert nx.server.count("POST", "/teams") == 1


def test_api_body_may_take_longer_than_the_bound_while_it_keeps_coming(nx, front):
    """After the headers, `nexla api` bounds each pause by the read timeout, not the whole
    download: a body arriving a byte every PAUSE seconds for longer than the bound is
    received in full."""
    seed_behind(nx, front)
    body = b'{"rows": "rrr"}'  # 15 bytes: 1.4 s at a byte every 0.1 s, the bound being 1 s
    nx.server.add_fault("GET", "/teams", Fault.body(200, body))
    result, seconds = timed_run(nx, "api", "/teams")
    assert result.returncode == 0, result.stderr
    assert result.stdout.encode() == body
    assert seconds > ATTEMPT


def test_api_body_that_stalls_longer_than_the_read_timeout_is_exit_5(nx, front):
    seed_behind(nx, front)
    body = b'{"rows": "' + b"r" * 30 + b'"}'
    nx.server.add_fault("GET", "/teams", Fault.body(200, body))
    front.pace = Pace(pause=5 * TIMEOUT)  # each byte comes after five read timeouts
    result, seconds = timed_run(nx, "api", "/teams")
    assert result.returncode == 5, result.stderr
    assert "timed out" in result.stderr
    assert seconds < 2 * ATTEMPT + SLACK, seconds


def test_retries_wait_the_real_backoff_schedule(nx):
    """The product's own timing, not the shortened one of the in-process tier: a GET the
    server keeps answering 503 is sent 4 times, 0, 1 and 2 seconds apart (backoff factor
    0.5), then fails with exit 5 (docs/network.md, "Retries")."""
    from nexla_cli.deps import Timing

    token = nx.sign_in()
    nx.server.add_fault("GET", "/teams", Fault.status(503), times=None)
    result = run_in_process(["api", "/teams"], env=nx.env, timing=Timing(), cwd=nx.tmp_path)
    assert result.returncode == 5, result.stderr
    sent = [record.time for record in nx.server.find("GET", "/teams")]
    assert len(sent) == 4
    gaps = [later - earlier for earlier, later in zip(sent, sent[1:], strict=False)]
    assert gaps[0] < 0.5 and 0.9 <= gaps[1] < 1.9 and 1.9 <= gaps[2] < 3.5, gaps
    assert all(token in r.headers["authorization"] for r in nx.server.find("GET", "/teams"))
