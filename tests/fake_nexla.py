"""A fake Nexla API served over real HTTPS on loopback, for end-to-end tests of the CLI.

The CLI is tested as a subprocess talking to this server through `requests`, so TLS, timeouts,
retries and connection errors are the real thing rather than mocks. Only the standard library
and `trustme` (for certificates) are used.

Typical use::

    with FakeNexla() as server:
        token = server.issue_token()
        ...  # run the CLI with REQUESTS_CA_BUNDLE=server.ca_bundle against server.api_url
        assert server.count("POST", "/token/refresh") == 1

Paths given to `count`, `add_fault`, `set_delay` and `wait_for_count` are relative to
`/nexla-api` (e.g. "/token/refresh"); the full path is accepted too.
"""

from __future__ import annotations

import gzip
import json
import secrets
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import trustme

API_PREFIX = "/nexla-api"

DEFAULT_USER = {"id": 42, "email": "ada@example.com", "full_name": "Ada Lovelace"}
DEFAULT_ORG = {"id": 7, "name": "Example Org"}

TEAMS = [
    {"id": 1, "name": "Data Engineering", "description": "Pipelines and flows"},
    {"id": 2, "name": "Analytics", "description": "Dashboards"},
    {"id": 3, "name": "Platform", "description": "Infrastructure"},
]


class _Default:
    """Sentinel type: "argument not given", so that an explicit None (no org) stays expressible."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT = _Default()


# --------------------------------------------------------------------------------------------
# Data records
# --------------------------------------------------------------------------------------------


@dataclass
class TokenInfo:
    token: str
    user: dict
    org: dict | None
    expires_at: float  # time.time() based
    source: str  # "issued" (by a test), "refresh" or "service_key"

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at


@dataclass
class RequestRecord:
    """One request as the server received it (logged before any delay or fault applies)."""

    method: str
    path: str  # full URL path without the query, e.g. "/nexla-api/token/refresh"
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased; repeated headers joined with ", "
    body: bytes
    time: float

    @property
    def api_path(self) -> str | None:
        """The path relative to /nexla-api ("/token/refresh"), or None if outside it."""
        return _relative(self.path)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Fault:
    """A misbehaviour to inject for one request. Build one with the class methods below."""

    # Fields are not named "status"/"body": those names belong to the constructors below.
    # "status", "hang", "delay", "reset", "redirect", "trickle", "trickle_all", "huge"
    kind: str
    code: int = 200
    content: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str | None = None
    seconds: float = 0.0

    @classmethod
    def status(
        cls,
        code: int,
        body: bytes | str | dict | list = b"",
        headers: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> Fault:
        """Answer with `code` and `body` instead of the real response.

        A dict/list body is sent as JSON; a str body as UTF-8 text. `headers` are extra response
        headers, e.g. {"Retry-After": "1"} for a 429.
        """
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            content_type = content_type or "application/json"
        elif isinstance(body, str):
            body = body.encode()
            content_type = content_type or "text/plain; charset=utf-8"
        return cls(
            kind="status",
            code=code,
            content=body,
            headers=tuple((headers or {}).items()),
            content_type=content_type,
        )

    @classmethod
    def body(cls, status: int, raw: bytes | str, content_type: str = "application/json") -> Fault:
        """Answer with exactly these bytes, e.g. a 200 that is not JSON or lacks access_token."""
        if isinstance(raw, str):
            raw = raw.encode()
        return cls(kind="status", code=status, content=raw, content_type=content_type)

    @classmethod
    def hang(cls, seconds: float = 30.0) -> Fault:
        """Read the request, say nothing for `seconds` (cut short by stop()), then close."""
        return cls(kind="hang", seconds=seconds)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Wait `seconds` (cut short by stop(), which then closes), then answer normally."""
        return cls(kind="delay", seconds=seconds)

    @classmethod
    def reset(cls) -> Fault:
        """Send headers announcing 1000 bytes and a few of them, then reset the connection."""
        return cls(kind="reset")

    @classmethod
    def redirect(cls, location: str, code: int = 302) -> Fault:
        return cls(kind="redirect", code=code, headers=(("Location", location),))

    @classmethod
    def trickle(
        cls,
        bytes_per_second: float,
        body: bytes | str | dict | list | None = None,
        *,
        headers_too: bool = False,
        code: int = 200,
    ) -> Fault:
        """Answer `bytes_per_second` bytes at a time, one step a second (cut short by stop()).

        With `body` None the real answer is trickled (so a refresh still rotates the token);
        otherwise this body. `headers_too` trickles the status line and headers as well.
        """
        content_type = "application/json"
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        return cls(
            kind="trickle_all" if headers_too else "trickle",
            code=code,
            content=body if body is not None else b"",
            content_type=content_type if body is not None else None,
            seconds=float(bytes_per_second),
        )

    @classmethod
    def huge(cls, size: int, prefix: bytes = b"", content_type: str = "application/json") -> Fault:
        """A 200 of `size` bytes (`prefix`, then "x"…), streamed without holding it in memory."""
        return cls(kind="huge", code=size, content=prefix, content_type=content_type)

    @classmethod
    def gzip_bomb(cls, expanded: int, content_type: str = "application/json") -> Fault:
        """A 200 with `Content-Encoding: gzip` whose body expands to `expanded` zero bytes.

        Built from repeated gzip members of 16 MiB each (decoders must join members), so it
        is small on the wire and quick to make.
        """
        member_size = 16 * 1024 * 1024
        member = gzip.compress(bytes(min(member_size, expanded)), compresslevel=9)
        body = member * max(1, expanded // member_size)
        return cls(
            kind="status",
            code=200,
            content=body,
            content_type=content_type,
            headers=(("Content-Encoding", "gzip"),),
        )

    @classmethod
    def duplicate_content_length(cls, body: bytes | str, other_length: int) -> Fault:
        """A 200 carrying two different Content-Length headers (the real one and another)."""
        if isinstance(body, str):
            body = body.encode()
        return cls(
            kind="status",
            code=200,
            content=body,
            content_type="application/json",
            headers=(("Content-Length", str(other_length)),),
        )


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


def _json(status: int, obj: Any) -> _Response:
    return _Response(status, json.dumps(obj).encode())


def _error(status: int, message: str) -> _Response:
    return _json(status, {"message": message, "error_code": status})


# Nexla often answers 401 with an empty body; the CLI must cope with that.
_UNAUTHORIZED = _Response(401, b"")


def paging_headers(url: str, total: int, page: int, per_page: int) -> list[tuple[str, str]]:
    """The paging headers of a Nexla list answer: a `Link` with rel="Next" while there is a
    next page, the row count, the page served and the number of pages."""
    pages = -(-total // per_page)
    headers = [
        ("X-Total-Count", str(total)),
        ("X-Current-Page", str(page)),
        ("X-Total-Page-Count", str(pages)),
    ]
    if page < pages:
        headers.append(("Link", f'<{url}?page={page + 1}&per_page={per_page}>; rel="Next"'))
    return headers


def _relative(path: str) -> str | None:
    """'/nexla-api/x' -> '/x'; '/nexla-api' -> '/'; anything else -> None."""
    if path == API_PREFIX:
        return "/"
    if path.startswith(API_PREFIX + "/"):
        return path[len(API_PREFIX) :]
    return None


def _normalise_key(method: str | None, path: str) -> tuple[str, str]:
    """Key for faults and delays: (METHOD or "*", path relative to /nexla-api)."""
    rel = _relative(path)
    return ((method or "*").upper(), rel if rel is not None else path)


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------


class FakeNexla:
    """A fake Nexla API on https://127.0.0.1:<random port>/nexla-api.

    State (tokens, service keys, faults, the request log) is guarded by one lock because each
    request is handled on its own thread.
    """

    def __init__(self, ca: trustme.CA | None = None) -> None:
        self.ca = ca or trustme.CA()
        # The temporary directory outlives stop() on purpose: a test that stops the server to
        # simulate an outage still needs the CA bundle to exist, or the CLI would fail on a
        # missing file instead of a refused connection. It is removed when this object is
        # garbage-collected (TemporaryDirectory's finaliser) or by cleanup(), which the
        # context manager and the nexla_server fixture call.
        self._tmp = tempfile.TemporaryDirectory(prefix="fake-nexla-")
        self.ca_bundle = str(Path(self._tmp.name) / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_bundle)

        self._ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(self._ssl_context)

        self.port = 0
        self.default_lifetime = 3600  # seconds, for tokens minted by refresh and service keys
        self.flow_count = 250  # items behind GET /flows
        self.flows_ignore_page = False  # True: /flows always returns page 1 (a broken server)
        # Nexla's list answers carry Link (rel="Next"), X-Total-Count, X-Current-Page and
        # X-Total-Page-Count; False leaves them out (a server or proxy that drops them).
        self.paging_headers = True

        self._lock = threading.Lock()
        self._logged = threading.Condition(self._lock)
        self._tokens: dict[str, TokenInfo] = {}
        self._service_keys: dict[str, tuple[dict, dict | None]] = {}
        self._faults: dict[tuple[str, str], list[list]] = {}  # key -> [[Fault, remaining|None]]
        self._delays: dict[tuple[str, str], float] = {}
        self.requests: list[RequestRecord] = []
        self.issued: list[str] = []  # every token created, in order (tests find "the new one")
        self.errors: list[BaseException] = []  # bugs in the fake itself, surfaced as 500s

        # Sleeps (hang/delay faults) wait on this so stop() can cut them short.
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeNexla:
        """Start serving. After stop(), start() again reuses the same port (server "back up")."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _Server(("127.0.0.1", self.port), _Handler, self, self._ssl_context)
        self.port = self._httpd.server_address[1]
        # A short poll interval keeps stop() prompt: shutdown() waits for the loop to notice.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-nexla-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting and wake every sleeping handler; returns promptly."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def cleanup(self) -> None:
        """Stop and remove the temporary directory holding the CA bundle."""
        self.stop()
        self._tmp.cleanup()

    def __enter__(self) -> FakeNexla:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"https://{self.host}{API_PREFIX}"

    @property
    def ui_url(self) -> str:
        return f"https://{self.host}"

    # ---- tokens and keys ------------------------------------------------------------------

    def issue_token(
        self,
        user: dict | None = None,
        org: dict | None | _Default = DEFAULT,
        lifetime: float = 3600,
        *,
        source: str = "issued",
    ) -> str:
        """Create a valid token. `org=None` means the user has no org (the API sends null)."""
        token = "tok-" + secrets.token_urlsafe(24)
        info = TokenInfo(
            token=token,
            user=dict(user or DEFAULT_USER),
            org=dict(DEFAULT_ORG) if org is DEFAULT else org,
            expires_at=time.time() + lifetime,
            source=source,
        )
        with self._lock:
            self._tokens[token] = info
            self.issued.append(token)
        return token

    def is_valid(self, token: str | None) -> bool:
        return self.token_info(token) is not None

    def token_info(self, token: str | None) -> TokenInfo | None:
        """The token's record if it is known and unexpired, else None."""
        with self._lock:
            info = self._tokens.get(token) if token else None
        return info if info is not None and not info.expired else None

    def invalidate(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def expire(self, token: str) -> None:
        """Make a token expired (the server then rejects it exactly like an invalid one)."""
        with self._lock:
            if token in self._tokens:
                self._tokens[token].expires_at = time.time() - 1

    def add_service_key(
        self, key: str, user: dict | None = None, org: dict | None | _Default = DEFAULT
    ) -> None:
        org_value = dict(DEFAULT_ORG) if org is DEFAULT else org
        with self._lock:
            self._service_keys[key] = (dict(user or DEFAULT_USER), org_value)

    def remove_service_key(self, key: str) -> None:
        with self._lock:
            self._service_keys.pop(key, None)

    # ---- faults and delays ----------------------------------------------------------------

    def add_fault(self, method: str | None, path: str, fault: Fault, times: int | None = 1) -> None:
        """Queue `fault` for the next `times` matching requests (None: every one, forever).

        `method` None or "*" matches any method. Faults for one endpoint apply in the order
        they were added; each request consumes at most one.
        """
        with self._lock:
            self._faults.setdefault(_normalise_key(method, path), []).append([fault, times])

    def set_delay(self, method: str | None, path: str, seconds: float) -> None:
        """Delay every matching request by `seconds` before it is handled (0 removes it)."""
        key = _normalise_key(method, path)
        with self._lock:
            if seconds > 0:
                self._delays[key] = seconds
            else:
                self._delays.pop(key, None)

    @property
    def delay(self) -> dict[tuple[str, str], float]:
        """Current delays, {(METHOD or "*", relative path): seconds} (a copy)."""
        with self._lock:
            return dict(self._delays)

    def clear_faults(self) -> None:
        """Remove all queued faults and all delays."""
        with self._lock:
            self._faults.clear()
            self._delays.clear()

    def _take_fault(self, method: str, rel_path: str) -> Fault | None:
        with self._lock:
            for key in ((method, rel_path), ("*", rel_path)):
                queue = self._faults.get(key)
                if not queue:
                    continue
                entry = queue[0]
                fault, remaining = entry
                if remaining is not None:
                    entry[1] = remaining - 1
                    if entry[1] <= 0:
                        queue.pop(0)
                return fault
        return None

    def _delay_for(self, method: str, rel_path: str) -> float:
        with self._lock:
            return self._delays.get((method, rel_path)) or self._delays.get(("*", rel_path)) or 0

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless stop() is called; True if the sleep was cut short by stop()."""
        return self._stopping.wait(seconds)

    # ---- request log ----------------------------------------------------------------------

    def _log(self, record: RequestRecord) -> None:
        with self._logged:
            self.requests.append(record)
            self._logged.notify_all()

    def _matching(self, method: str | None, path: str | None) -> list[RequestRecord]:
        want_method = method.upper() if method else None
        want_path = _normalise_key(None, path)[1] if path else None
        return [
            r
            for r in self.requests
            if (want_method is None or r.method == want_method)
            and (want_path is None or _normalise_key(None, r.path)[1] == want_path)
        ]

    def count(self, method: str | None = None, path: str | None = None) -> int:
        with self._lock:
            return len(self._matching(method, path))

    def find(self, method: str | None = None, path: str | None = None) -> list[RequestRecord]:
        """The logged requests matching method and (relative) path, oldest first."""
        with self._lock:
            return self._matching(method, path)

    def last(self, method: str | None = None, path: str | None = None) -> RequestRecord | None:
        found = self.find(method, path)
        return found[-1] if found else None

    def wait_for_count(
        self, method: str | None = None, path: str | None = None, n: int = 1, timeout: float = 5
    ) -> bool:
        """Block until at least `n` matching requests have arrived; False on timeout.

        Useful when a CLI process runs in the background and the test must know it has
        reached the server (e.g. is now stuck in a hang fault).
        """
        deadline = time.monotonic() + timeout
        with self._logged:
            while len(self._matching(method, path)) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._logged.wait(remaining)
            return True

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # ---- routing (runs on handler threads) --------------------------------------------------

    def _bearer(self, headers: dict[str, str]) -> TokenInfo | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.token_info(token)

    def _session_body(self, info: TokenInfo) -> dict:
        return {
            "access_token": info.token,
            "token_type": "Bearer",
            "expires_in": int(round(info.expires_at - time.time())),
            "user": info.user,
            "org": info.org,
        }

    def _mint(self, user: dict, org: dict | None, source: str) -> TokenInfo:
        token = self.issue_token(user, org, self.default_lifetime, source=source)
        info = self.token_info(token)
        assert info is not None
        return info

    def _route(self, req: RequestRecord) -> _Response:
        rel = req.api_path
        if rel is None:
            return _json(404, {"message": "Not found"})
        # Rails-style: a trailing slash names the same resource.
        if len(rel) > 1 and rel.endswith("/"):
            rel = rel[:-1]
        method = req.method

        # Minting from a service key is the one call that does not take a Bearer token.
        if rel == "/token":
            if method != "POST":
                return _error(405, "Method not allowed")
            scheme, _, key = req.headers.get("authorization", "").partition(" ")
            with self._lock:
                owner = self._service_keys.get(key) if scheme.lower() == "basic" else None
            if owner is None:
                return _error(401, "Invalid service key")
            return _json(200, self._session_body(self._mint(*owner, source="service_key")))

        info = self._bearer(req.headers)
        if info is None:
            return _UNAUTHORIZED

        if rel == "/users/current":
            if method not in ("GET", "HEAD"):
                return _error(405, "Method not allowed")
            return _json(200, {"user": info.user, "org": info.org})

        if rel == "/token/refresh":
            if method != "POST":
                return _error(405, "Method not allowed")
            # The old token dies with the refresh, as the SPEC tells the CLI to assume.
            self.invalidate(info.token)
            return _json(200, self._session_body(self._mint(info.user, info.org, "refresh")))

        if rel == "/token/logout":
            if method != "POST":
                return _error(405, "Method not allowed")
            self.invalidate(info.token)
            return _json(200, {})

        if rel == "/echo":
            text = req.body.decode("utf-8", errors="replace")
            try:
                parsed = json.loads(req.body) if req.body else None
            except ValueError:
                parsed = None
            return _json(
                200,
                {
                    "method": method,
                    "path": req.path,
                    "query": req.query,
                    "headers": req.headers,
                    "body": text,
                    "json": parsed,
                },
            )

        if rel == "/flows":
            return self._flows(req)

        if rel == "/teams" or rel.startswith("/teams/"):
            return self._teams(req, rel)

        return _json(404, {"message": "Not found"})

    def _flows(self, req: RequestRecord) -> _Response:
        if req.method not in ("GET", "HEAD"):
            return _error(405, "Method not allowed")
        try:
            page = int(req.query.get("page", "1"))
            per_page = int(req.query.get("per_page", "100"))
        except ValueError:
            return _error(400, "page and per_page must be integers")
        if page < 1 or per_page < 1:
            return _error(400, "page and per_page must be positive")
        if self.flows_ignore_page:
            page = 1
        start = (page - 1) * per_page
        stop = min(start + per_page, self.flow_count)
        response = _json(200, [{"id": i + 1} for i in range(start, stop)])
        if self.paging_headers:
            url = self.api_url + "/flows"
            response.headers = paging_headers(url, self.flow_count, page, per_page)
        return response

    def _teams(self, req: RequestRecord, rel: str) -> _Response:
        method = req.method
        team_id = rel[len("/teams/") :] if rel != "/teams" else None

        if method == "POST" and team_id == "invalid":
            return _error(422, "Name can't be blank")

        if method in ("GET", "HEAD"):
            if team_id is None:
                return _json(200, TEAMS)
            team = next((t for t in TEAMS if str(t["id"]) == team_id), None)
            return _json(200, team) if team else _error(404, "Team not found")

        if method in ("POST", "PUT", "PATCH", "DELETE"):
            try:
                received = json.loads(req.body) if req.body else None
            except ValueError:
                return _error(400, "Request body is not valid JSON")
            status = 201 if method == "POST" else 200
            return _json(status, {"method": method, "received": received, "query": req.query})

        return _error(405, "Method not allowed")


# --------------------------------------------------------------------------------------------
# Transport
# --------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung handler must never keep the test process alive
    block_on_close = False
    # Concurrency tests start a dozen CLI processes at once; the default backlog of 5 would
    # drop SYNs and add a one-second retransmit delay to some of them.
    request_queue_size = 128

    def __init__(self, address, handler, fake: FakeNexla, context: ssl.SSLContext) -> None:
        self.fake = fake
        self.ssl_context = context
        super().__init__(address, handler)

    def finish_request(self, request: socket.socket, client_address) -> None:
        # TLS is set up here, on the per-connection thread, rather than by wrapping the
        # listening socket: that would run every handshake inside accept() on the serving
        # thread, where one stalled client would block all the others.
        request.settimeout(10)
        try:
            conn = self.ssl_context.wrap_socket(request, server_side=True)
        except OSError:
            return  # the client gave up on the handshake or rejected our CA; nothing to serve
        try:
            self.RequestHandlerClass(conn, client_address, self)
        except OSError:
            pass  # the client went away mid-request (timeouts, resets): expected in these tests
        finally:
            conn.close()

    def handle_error(self, request, client_address) -> None:
        # Anything reaching here is a bug in the fake; keep it for the test to see.
        self.fake.errors.append(sys.exc_info()[1])
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 status lines, but every response says "Connection: close" and carries a
    # Content-Length: one request per connection is the most robust arrangement for hangs
    # and resets, and keep-alive buys nothing here.
    protocol_version = "HTTP/1.1"
    timeout = 30  # socket timeout while reading a request, so idle clients do not pin threads
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log replaces stderr noise

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # Skip trailers up to the blank line that ends the message.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # CRLF after each chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        fake = self.server.fake
        self.close_connection = True
        # Read the whole body first, even for faults: closing a socket with unread input
        # makes the kernel send a reset, which would turn every fault into a reset.
        body = self._read_body()
        url = urlsplit(self.path)
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        record = RequestRecord(
            method=self.command.upper(),
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers=headers,
            body=body,
            time=time.time(),
        )
        fake._log(record)
        rel = _normalise_key(None, record.path)[1]

        delay = fake._delay_for(record.method, rel)
        if delay and fake._sleep(delay):
            return  # stopped while waiting: close without answering

        fault = fake._take_fault(record.method, rel)
        if fault is not None:
            if fault.kind == "hang":
                fake._sleep(fault.seconds)
                return  # close without a word, however the sleep ended
            if fault.kind == "delay":
                if fake._sleep(fault.seconds):
                    return
            elif fault.kind == "reset":
                self._reset()
                return
            elif fault.kind in ("status", "redirect"):
                self._send(
                    _Response(fault.code, fault.content, fault.content_type, list(fault.headers))
                )
                return
            elif fault.kind == "huge":
                self._send_huge(fault)
                return
            elif fault.kind in ("trickle", "trickle_all"):
                if fault.content_type is not None:
                    response = _Response(fault.code, fault.content, fault.content_type)
                else:
                    response = self._routed(record)
                self._trickle(response, fault.seconds, headers_too=fault.kind == "trickle_all")
                return

        self._send(self._routed(record))

    def _routed(self, record: RequestRecord) -> _Response:
        fake = self.server.fake
        try:
            return fake._route(record)
        except Exception as exc:  # a bug in the fake: make it visible, not a hang
            fake.errors.append(exc)
            return _error(500, f"fake server error: {exc!r}")

    def _send(self, response: _Response) -> None:
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    def _head_bytes(self, response: _Response, length: int) -> bytes:
        lines = [f"HTTP/1.1 {response.status} {self.responses.get(response.status, ('',))[0]}"]
        if response.content_type:
            lines.append(f"Content-Type: {response.content_type}")
        lines += [f"{name}: {value}" for name, value in response.headers]
        lines += [f"Content-Length: {length}", "Connection: close", "", ""]
        return "\r\n".join(lines).encode("latin-1")

    def _trickle(self, response: _Response, per_second: float, *, headers_too: bool) -> None:
        """Send `per_second` bytes a second until done, the client leaves or stop() is called."""
        head = self._head_bytes(response, len(response.body))
        data = head + response.body
        if not headers_too:
            self.wfile.write(head)
            self.wfile.flush()
            data = response.body
        step = max(1, int(per_second))
        for start in range(0, len(data), step):
            try:
                self.wfile.write(data[start : start + step])
                self.wfile.flush()
            except OSError:
                return  # the client gave up
            if self.server.fake._sleep(step / per_second):
                return

    def _send_huge(self, fault: Fault) -> None:
        size = fault.code
        self.wfile.write(self._head_bytes(_Response(200, b"", fault.content_type), size))
        block = b"x" * (256 * 1024)
        sent = 0
        try:
            if fault.content:
                self.wfile.write(fault.content[:size])
                sent = min(len(fault.content), size)
            while sent < size and not self.server.fake._stopping.is_set():
                piece = block[: size - sent]
                self.wfile.write(piece)
                sent += len(piece)
        except OSError:
            return  # the client stopped reading, as it should

    def _reset(self) -> None:
        # Promise 1000 bytes, deliver a few, then abort: SO_LINGER with a zero timeout makes
        # close() send RST instead of FIN, so the client sees a reset mid-response rather
        # than a clean end of stream.
        self.wfile.write(
            b"HTTP/1.1 200 OK\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: 1000\r\n"
            b"\r\n"
            b'{"access_token": "tok-'
        )
        # Give the client a moment to read the headers, so the reset lands in the body.
        time.sleep(0.05)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
