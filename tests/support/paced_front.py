"""A TLS front for the fake server that passes its answers on at a pace a test sets (a byte
every PAUSE seconds), and stores that reach the API through it: for the bounds on time."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from dataclasses import dataclass

from tests.support.signing_in import session_record
from tests.support.stores import write_store

TIMEOUT = 0.5


ATTEMPT = 2 * TIMEOUT  # connect + read timeout


# A step well inside the read timeout, so a pause never trips it even on a busy machine.
PAUSE = 0.1


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


def seed_behind(nx, front: PacedFront, **session) -> str:
    """The fake server's environment, signed in, with its API reached through `front`."""
    token = nx.server.issue_token()
    environment = {"api_url": front.api_url, "session": session_record(token, **session)}
    write_store(nx.config_dir, {nx.server.host: environment}, nx.server.host)
    return token


def slow_env(nx, **extra: str) -> dict:
    return nx.env_with(NEXLA_TIMEOUT=str(TIMEOUT), **extra)
