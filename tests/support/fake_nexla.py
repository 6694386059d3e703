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

One server can serve a whole test session: `reset()` between tests brings back the state of
a freshly started server on the same port with the same CA (tests/conftest.py does this).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import math
import re
import secrets
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import trustme

API_PREFIX = "/nexla-api"
# Names the docs' examples give their environments (dataops.nexla.io, beta.nexla.com,
# staging.example.com, …): the server's certificate covers them too.
EXAMPLE_HOSTS = ("*.nexla.io", "*.nexla.com", "*.example.com")

DEFAULT_USER = {"id": 42, "email": "ada@example.com", "full_name": "Ada Lovelace"}
DEFAULT_ORG = {"id": 7, "name": "Example Org"}
# An admin acting as another user (see FakeNexla.issue_token's `impersonator`).
ADMIN_USER = {"id": 1, "email": "admin@nexla.example", "full_name": "Grace Admin", "org": 1}
# POST /token shows the org membership's API key; it begins with this, so tests can look for it.
MEMBERSHIP_API_KEY_PREFIX = "membership-api-key-"
# The server's "every row" page size when no paging is asked for.
PAGINATE_ALL = 2**32
_CREATED_AT = "2024-01-02T03:04:05.000Z"

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
    impersonator: dict | None = None  # the admin acting as `user`, if one is

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
    # "status", "hang", "delay", "held", "reset", "redirect", "trickle", "trickle_all", "huge"
    kind: str
    code: int = 200
    content: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str | None = None
    seconds: float = 0.0
    gate: threading.Event | None = field(default=None, compare=False)

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
        """Read the request, say nothing for `seconds`, then close (stop() and reset() cut the
        wait short)."""
        return cls(kind="hang", seconds=seconds)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Wait `seconds`, then answer normally (stop() and reset() cut the wait short, and the
        connection is then closed unanswered)."""
        return cls(kind="delay", seconds=seconds)

    @classmethod
    def held(cls, gate: threading.Event, seconds: float = 10.0) -> Fault:
        """Answer normally once the test sets `gate` (at most `seconds` later): for a test that
        acts while a request is in flight, and then needs the answer at once (stop() and
        reset() cut the wait short, and the connection is then closed unanswered)."""
        return cls(kind="held", seconds=seconds, gate=gate)

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
        """Answer `bytes_per_second` bytes at a time, one step a second (cut short by stop()
        or reset()).

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


def _json(status: int, obj: Any, headers: list[tuple[str, str]] | None = None) -> _Response:
    return _Response(status, json.dumps(obj).encode(), headers=list(headers or []))


def _error(status: int, message: str) -> _Response:
    """An error with a message, as the server renders one (400s, 500s): the error code is
    null unless the server set one."""
    return _json(status, {"message": message, "error_code": None})


def make_jwt(claims: dict, header: dict | None = None) -> str:
    """A JWT-shaped token: base64url JSON header and claims, and a filler signature."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    head = json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode()
    return ".".join((part(head), part(json.dumps(claims).encode()), part(secrets.token_bytes(32))))


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
        # context manager and the session's shared server call.
        self._tmp = tempfile.TemporaryDirectory(prefix="fake-nexla-")
        self.ca_bundle = str(Path(self._tmp.name) / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_bundle)

        self._ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # Also the host names the docs' examples use: their tests point those names at this
        # server (tests/support/transcripts.py), and TLS checks the name as for a real host.
        self.ca.issue_cert("127.0.0.1", "localhost", *EXAMPLE_HOSTS).configure_cert(
            self._ssl_context
        )

        self.port = 0
        self._lock = threading.Lock()
        # Notified when a request is logged (wait_for_count) and when a handler leaves its
        # last use of the state (reset).
        self._logged = threading.Condition(self._lock)
        # Handlers are tagged with the generation they started in; reset() starts a new one,
        # and a handler of an older generation no longer touches the state (see reset()).
        self._generation = 0
        self._open: dict[int, int] = {}  # generation -> connections still being handled
        self._using_state = 0  # handlers inside their short, lock-free use of the state
        # Sleeps (hang/delay/trickle faults) wait on this, so stop() and reset() can cut
        # them short: both set it and put a fresh one in place for the handlers after them.
        self._wake = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._set_initial_state()

    def _set_initial_state(self) -> None:
        """Everything a test may change or the handlers accumulate, as a new server has it.

        __init__ and reset() both use this, so a setting added here is reset too.
        """
        self.default_lifetime = 3600  # seconds, for tokens minted by refresh and service keys
        self.flow_count = 3  # flows behind GET /flows
        self.data_source_count = 250  # rows behind GET /data_sources
        self.ignore_page = False  # True: lists always return page 1 (a broken server)
        # A per_page maximum for /data_sources, as some Nexla endpoints declare (e.g. 1000
        # or 100); None: none, as for Nexla's /data_sources itself.
        self.per_page_max: int | None = None
        self.teams = [dict(team) for team in TEAMS]  # this server's own, for POST and PUT
        # Nexla's list answers carry Link (rel="Next"), X-Total-Count, X-Current-Page and
        # X-Total-Page-Count; False leaves them out (a server or proxy that drops them).
        self.paging_headers = True

        self._tokens: dict[str, TokenInfo] = {}
        self._service_keys: dict[str, tuple[dict, dict | None]] = {}
        # user id -> (the orgs the user belongs to, the default one): see add_memberships.
        self._memberships: dict[object, tuple[list[dict], dict | None]] = {}
        self._faults: dict[tuple[str, str], list[list]] = {}  # key -> [[Fault, remaining|None]]
        self._delays: dict[tuple[str, str], float] = {}
        self.requests: list[RequestRecord] = []
        self.issued: list[str] = []  # every token created, in order (tests find "the new one")
        self.errors: list[BaseException] = []  # bugs in the fake itself, surfaced as 500s

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeNexla:
        """Start serving. After stop(), start() again reuses the same port (server "back up")."""
        if self._httpd is not None:
            return self
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
        self._wake_sleepers()
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def reset(self, timeout: float = 5) -> bool:
        """Forget everything a test did: as freshly started, but the same socket, port and CA.

        Tokens, service keys, faults, delays, the request log, `issued`, `errors` and every
        setting (default_lifetime, flow_count, teams, …) go back to what __init__ sets.
        Handlers still at work for the previous test are woken from any sleep and given up
        to `timeout` seconds to finish; one that takes longer (a client still sending, say)
        belongs to the old generation and is ignored from then on: it never logs, consumes a
        fault, reaches an endpoint or reports an error again, it only closes its connection.
        Returns whether every old handler finished in time.
        """
        settled = self.settle(timeout)
        with self._lock:
            self._set_initial_state()
        return settled

    def settle(self, timeout: float = 5) -> bool:
        """End the current generation of handlers without touching the state.

        Sleeping handlers are woken (they close without answering, as at stop()), handlers
        using the state are waited for (that is quick: they do no I/O then), and connections
        still open are given up to `timeout` seconds. Returns whether they all closed in
        time. Requests arriving afterwards start the next generation and are served normally.
        """
        with self._lock:
            old = self._generation
            self._generation += 1
        self._wake_sleepers()
        deadline = time.monotonic() + timeout
        with self._logged:
            # Handlers check the generation on entering the state: once none is inside,
            # none of the old generation can change it any more.
            while self._using_state and self._logged.wait(max(0.0, deadline - time.monotonic())):
                pass
            while any(count for gen, count in self._open.items() if gen <= old):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._logged.wait(remaining)
        return True

    def _wake_sleepers(self) -> None:
        """Cut short every sleep in progress; later sleeps wait on a fresh event."""
        with self._lock:
            woken, self._wake = self._wake, threading.Event()
        woken.set()

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
        impersonator: dict | None = None,
        jwt: bool = False,
    ) -> str:
        """Create a valid token. `org=None` means the user has no org (the API sends null).

        `impersonator`: the admin acting as `user` (the API then says `impersonated`).
        `jwt=True`: the token is a JWT whose `exp` is its expiry (signature not meaningful);
        otherwise an opaque `tok-…` string.
        """
        expires_at = time.time() + lifetime
        token = (
            make_jwt({"sub": str((user or DEFAULT_USER).get("id")), "exp": int(expires_at)})
            if jwt
            else "tok-" + secrets.token_urlsafe(24)
        )
        info = TokenInfo(
            token=token,
            user=dict(user or DEFAULT_USER),
            org=dict(DEFAULT_ORG) if org is DEFAULT else org,
            expires_at=expires_at,
            source=source,
            impersonator=dict(impersonator) if impersonator else None,
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
        """Make `key` mint sessions for `user` in `org` (POST /token)."""
        org_value = dict(DEFAULT_ORG) if org is DEFAULT else org
        with self._lock:
            self._service_keys[key] = (dict(user or DEFAULT_USER), org_value)

    def add_memberships(
        self, user: dict | None, orgs: list[dict], default_org: dict | None = None
    ) -> None:
        """Make `user` a member of every org in `orgs`, `default_org` (else the first) the one
        a sign-in lands in. The user record then lists them all (`org_memberships`) and names
        the default (`default_org`), whatever org a token is in, as Nexla's does. Without
        this, a user belongs to the org of the token alone."""
        user = user or DEFAULT_USER
        chosen = default_org or (orgs[0] if orgs else None)
        with self._lock:
            self._memberships[user.get("id")] = (
                [dict(org) for org in orgs],
                dict(chosen) if chosen else None,
            )

    def sign_in(self, user: dict | None = None, org: dict | None | _Default = DEFAULT) -> str:
        """A token as the UI's /token page hands one out: in `org`, else the user's default
        org (add_memberships), else DEFAULT_ORG. A token for an org the user is not a
        member of is an error of the test."""
        user = user or DEFAULT_USER
        with self._lock:
            orgs, default = self._memberships.get(user.get("id"), ([], None))
        if org is DEFAULT:
            org = default if default is not None else dict(DEFAULT_ORG)
        if orgs and org is not None and all(o.get("id") != org.get("id") for o in orgs):
            raise AssertionError(f"user {user.get('id')} is not a member of org {org.get('id')}")
        return self.issue_token(user, org)

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

    # ---- handler bookkeeping (runs on handler threads) -----------------------------------

    def _connection_opened(self) -> tuple[int, threading.Event]:
        """A new connection's generation and the event that cuts its sleeps short."""
        with self._lock:
            generation = self._generation
            self._open[generation] = self._open.get(generation, 0) + 1
            return generation, self._wake

    def _connection_closed(self, generation: int) -> None:
        with self._logged:
            self._open[generation] -= 1
            if not self._open[generation]:
                del self._open[generation]
            self._logged.notify_all()

    @contextlib.contextmanager
    def _state_for(self, generation: int) -> Iterator[bool]:
        """Whether a handler of `generation` may use the state; while True, reset() waits.

        A handler must not sleep or do I/O inside: reset() waits for it.
        """
        with self._lock:
            current = generation == self._generation
            if current:
                self._using_state += 1
        if not current:
            yield False
            return
        try:
            yield True
        finally:
            with self._logged:
                self._using_state -= 1
                self._logged.notify_all()

    def _record_error(self, exc: BaseException, generation: int) -> None:
        """Keep a bug in the fake for the test to see, unless a previous test's handler hit it."""
        with self._lock:
            if generation == self._generation:
                self.errors.append(exc)

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
    #
    # Each endpoint answers as Nexla's API server does; docs/api-facts.md names the source of
    # every fact and tests/app/test_fake_nexla.py checks each one. One small method per endpoint,
    # so that an endpoint is added or changed without touching the others.

    def _route(self, req: RequestRecord) -> _Response:
        rel = req.api_path
        if rel is None:
            return _empty(404)
        # Rails-style: a trailing slash names the same resource.
        if len(rel) > 1 and rel.endswith("/"):
            rel = rel[:-1]

        # The token endpoints authenticate each in its own way (a service key, or the token
        # being renewed or ended), not with the check every other endpoint makes.
        token_routes = {
            "/token": self._route_token,
            "/token/refresh": self._route_token_refresh,
            "/token/logout": self._route_token_logout,
        }
        if rel in token_routes:
            # Only POST is routed there; anything else finds no route: an empty 404.
            return token_routes[rel](req) if req.method == "POST" else _empty(404)

        auth = self._authenticate(req.headers)
        if isinstance(auth, _Response):
            return auth
        return self._route_resource(req, rel, auth)

    def _route_resource(self, req: RequestRecord, rel: str, info: TokenInfo) -> _Response:
        """Endpoints that take the usual Bearer token, already checked (`info`)."""
        if rel == "/users/current":
            return self._route_users_current(req, info)
        if rel == "/echo":
            return self._route_echo(req)
        if rel == "/flows":
            return self._route_flows(req)
        if rel == "/data_sources":
            return self._route_data_sources(req)
        if rel == "/teams" or rel.startswith("/teams/"):
            return self._route_teams(req, rel)
        return _empty(404)

    def _authenticate(self, headers: dict[str, str]) -> TokenInfo | _Response:
        """Nexla's check before every endpoint: no header is 401, a header that is not two
        words is 400, an unknown or expired token is 401; the 401s have empty bodies."""
        parts = headers.get("authorization", "").split()
        if not parts:
            return _empty(401)
        if len(parts) < 2:
            return _error(400, "Invalid header format")
        if parts[0].lower() != "bearer":
            return _empty(401)
        return self.token_info(parts[1]) or _empty(401)

    # -- sessions --------------------------------------------------------------------------

    def _route_token(self, req: RequestRecord) -> _Response:
        """POST /token with `Authorization: Basic <service key>` mints a session."""
        parts = req.headers.get("authorization", "").split(" ", 1)
        if len(parts) < 2 or not parts[1]:
            return _error(400, "Invalid header format")
        scheme, key = parts
        with self._lock:
            owner = self._service_keys.get(key) if scheme.lower() == "basic" else None
        if owner is None:
            return _empty(401)  # an unknown or paused key: no body
        user, org = owner
        info = self._mint(user, org, "service_key")
        return _json(200, self._token_body(info))

    def _route_token_refresh(self, req: RequestRecord) -> _Response:
        """POST /token/refresh with the Bearer token answers as POST /token does."""
        parts = req.headers.get("authorization", "").split()
        if len(parts) < 2:
            return _error(400, "Invalid header format")
        info = self.token_info(parts[1]) if parts[0].lower() == "bearer" else None
        if info is None:
            return _empty(401)
        # Whether the old token outlives a refresh is not published: here it dies, the
        # stricter case for clients.
        self.invalidate(info.token)
        renewed = self._mint(info.user, info.org, "refresh", impersonator=info.impersonator)
        return _json(200, self._token_body(renewed))

    def _route_token_logout(self, req: RequestRecord) -> _Response:
        """POST /token/logout ends the token named in the header: 200, empty body.

        The server does not authenticate this call first, so an unknown or dead token is
        200 too; only a header that is not two words is refused (400).
        """
        parts = req.headers.get("authorization", "").split()
        if len(parts) != 2:
            return _error(400, "Invalid header format")
        self.invalidate(parts[1])
        return _empty(200)

    def _route_users_current(self, req: RequestRecord, info: TokenInfo) -> _Response:
        if req.method not in ("GET", "HEAD"):
            return _empty(404)
        body: dict[str, Any] = {"user": self._user_view(info)}
        if info.org is None:
            body["org"] = None
        else:
            body["org_membership"] = _membership_view(info.org, with_api_key=False)
            body["org"] = _org_view(info.org)
        return _json(200, body)

    def _token_body(self, info: TokenInfo) -> dict:
        """The body of a successful POST /token or /token/refresh."""
        body: dict[str, Any] = {
            "access_token": info.token,
            "token_type": "Bearer",
            "expires_in": int(round(info.expires_at - time.time())),
            "user": self._user_view(info),
        }
        if info.org is None:
            body["org"] = None
        else:
            # The membership carries the user's API key: a secret clients must never keep.
            body["org_membership"] = _membership_view(info.org, with_api_key=True)
            body["org"] = _org_view(info.org)
        return body

    def _user_view(self, info: TokenInfo) -> dict:
        """A user as Nexla renders one (users/_show): identity, impersonation, memberships."""
        user = dict(info.user)
        org = info.org
        view: dict[str, Any] = {
            "id": user.get("id"),
            "email": user.get("email"),
            "full_name": user.get("full_name"),
            "impersonated": info.impersonator is not None,
        }
        if info.impersonator is not None:
            view["impersonator"] = {
                "id": info.impersonator.get("id"),
                "email": info.impersonator.get("email"),
                "full_name": info.impersonator.get("full_name"),
                "email_verified_at": _CREATED_AT,
                "org": info.impersonator.get("org"),
            }
        with self._lock:
            memberships = self._memberships.get(user.get("id"))
        orgs, default = memberships if memberships else ([org] if org else [], org)
        view.update(
            {
                "default_org": {"id": default["id"], "name": default["name"]} if default else None,
                "user_tier": None,
                "status": "ACTIVE",
                "account_locked": False,
                "org_memberships": [_org_membership_entry(each) for each in orgs],
                "custodian_for_orgs": [],
                "custodian_for_domains": [],
                "email_verified_at": _CREATED_AT,
                "tos_signed_at": _CREATED_AT,
                "updated_at": _CREATED_AT,
                "created_at": _CREATED_AT,
            }
        )
        return view

    def _mint(
        self, user: dict, org: dict | None, source: str, impersonator: dict | None = None
    ) -> TokenInfo:
        token = self.issue_token(
            user, org, self.default_lifetime, source=source, impersonator=impersonator
        )
        info = self.token_info(token)
        assert info is not None
        return info

    # -- resources -------------------------------------------------------------------------

    def _route_echo(self, req: RequestRecord) -> _Response:
        """Not a Nexla endpoint: shows what was sent, for tests of `nexla api` requests."""
        text = req.body.decode("utf-8", errors="replace")
        try:
            parsed = json.loads(req.body) if req.body else None
        except ValueError:
            parsed = None
        return _json(
            200,
            {
                "method": req.method,
                "path": req.path,
                "query": req.query,
                "headers": req.headers,
                "body": text,
                "json": parsed,
            },
        )

    def _route_flows(self, req: RequestRecord) -> _Response:
        """GET /flows: one object holding the flows and their resources, not an array."""
        if req.method not in ("GET", "HEAD"):
            return _empty(404)
        flows = [{"id": i, "name": f"Flow {i}"} for i in range(1, self.flow_count + 1)]
        # Flows are always paged: per_page defaults to "all", so every flow comes back.
        paged = _paginate(req, flows, self.ui_url, flows=True, ignore_page=self.ignore_page)
        if isinstance(paged, _Response):
            return paged
        rows, headers = paged
        body = {
            "flows": [
                {
                    "id": flow["id"],
                    "parent_node_id": None,
                    "data_source": {"id": flow["id"]},
                    "children": [],
                }
                for flow in rows
            ],
            "triggered_flows": [],
            "triggering_flows": [],
            "linked_flows": [],
            "data_sources": [{"id": flow["id"], "name": flow["name"]} for flow in rows],
            "data_sets": [],
            "data_sinks": [],
            "data_credentials": [],
            "projects": [],
        }
        return _json(200, body, self._paging(headers))

    def _paging(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The paging headers, or none when `paging_headers` is off."""
        return headers if self.paging_headers else []

    def _route_data_sources(self, req: RequestRecord) -> _Response:
        """GET /data_sources: a JSON array, paged as every list is."""
        if req.method not in ("GET", "HEAD"):
            return _empty(404)
        # Rows made only for the page asked for: tests page through a billion of them.
        rows = _NumberedRows(self.data_source_count)
        paged = _paginate(
            req, rows, self.ui_url, max_per_page=self.per_page_max, ignore_page=self.ignore_page
        )
        if isinstance(paged, _Response):
            return paged
        return _json(200, paged[0], self._paging(paged[1]))

    def _route_teams(self, req: RequestRecord, rel: str) -> _Response:
        method = req.method
        team_id = rel[len("/teams/") :] if rel != "/teams" else None
        team = None
        if team_id is not None:
            team = next((t for t in self.teams if str(t["id"]) == team_id), None)
            if team is None:
                return _empty(404)  # Team.find: not found, no body

        if method in ("GET", "HEAD"):
            if team is not None:
                return _json(200, team)
            paged = _paginate(req, self.teams, self.ui_url, ignore_page=self.ignore_page)
            if isinstance(paged, _Response):
                return paged
            return _json(200, paged[0], self._paging(paged[1]))

        if method == "DELETE" and team is not None:
            return _empty(200)

        if (method == "POST" and team is None) or (method in ("PUT", "PATCH") and team):
            try:
                received = json.loads(req.body) if req.body else {}
            except ValueError:
                return _error(400, "Cannot parse JSON request body")
            if not isinstance(received, dict):
                return _error(400, "The property '#/' of type array did not match: object")
            if method == "POST" and not received.get("name"):
                # A validation failure is 400 with a message (not 422).
                return _error(
                    400, "The property '#/' did not contain a required property of 'name'"
                )
            if team is None:
                team = {"id": max(t["id"] for t in self.teams) + 1, "description": None}
                self.teams.append(team)
            team.update({key: received[key] for key in ("name", "description") if key in received})
            return _json(200, team)  # rendered with "show": 200, also for a create

        return _empty(404)


def _empty(status: int) -> _Response:
    """Nexla answers 401, 403 and 404 (and logout's 200) with no body at all."""
    return _Response(status, b"", content_type=None)


def _membership_view(org: dict, *, with_api_key: bool) -> dict:
    view: dict[str, Any] = {}
    if with_api_key:
        view["api_key"] = _api_key_for(org)
    view.update(
        {
            "status": "ACTIVE",
            "is_admin?": False,
            "access_role": "member",
            "access_role_expires_at": None,
        }
    )
    return view


def _api_key_for(org: dict) -> str:
    """The org membership's API key as POST /token shows it: recognisable in tests."""
    return f"{MEMBERSHIP_API_KEY_PREFIX}{org.get('id')}"


def _org_membership_entry(org: dict) -> dict:
    return {
        "id": org["id"],
        "name": org["name"],
        "is_admin?": False,
        "access_role": "member",
        "access_role_expires_at": None,
        "org_membership_status": "ACTIVE",
    }


def _org_view(org: dict) -> dict:
    """An org as Nexla renders one with a session (orgs/_brief)."""
    return {
        "id": org.get("id"),
        "name": org.get("name"),
        "cluster_id": 1,
        "new_cluster_id": None,
        "cluster_status": "ACTIVE",
        "status": "ACTIVE",
        "email_domain": "example.com",
        "email": None,
        "client_identifier": None,
        "self_signup": False,
        "features_enabled": [],
        "org_tier": None,
        "org_webhook_host": None,
        "nexset_api_host": None,
    }


def _to_i(raw: str | None) -> int:
    """Ruby's String#to_i: the leading digits as a number, else 0."""
    match = re.match(r"\s*([+-]?\d+)", raw or "")
    return int(match.group(1)) if match else 0


class _NumberedRows:
    """`[{"id": 1}, {"id": 2}, …]` of a given length, made only as far as a slice asks."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: slice) -> list:
        return [{"id": i + 1} for i in range(self.count)[index]]


def _paginate(
    req: RequestRecord,
    rows: Any,
    origin: str,
    *,
    max_per_page: int | None = None,
    flows: bool = False,
    ignore_page: bool = False,
) -> tuple[list, list[tuple[str, str]]] | _Response:
    """Nexla's paging of a list: (the rows of the page asked for, paging headers), or a 400.

    As the server's preflight does it: with neither `page` nor `per_page` every row comes
    back; with `page` alone, 10 a page; a `per_page` above the endpoint's maximum is 400
    (without paging parameters the maximum is simply applied); a page past the end is empty.
    /flows is always paged and its `per_page` defaults to every row (`flows=True`).
    Headers: X-Total-Count always; X-Current-Page, X-Page-Count, X-Total-Page-Count and
    Link (rel="Previous", rel="Next") when the answer is paged.
    """
    page = _to_i(req.query.get("page"))
    per_page = _to_i(req.query.get("per_page"))
    paged = page > 0 or per_page > 0
    page = max(page, 1)
    if paged:
        per_page = per_page if per_page > 0 else 10
    else:
        per_page = PAGINATE_ALL
    if max_per_page is not None:
        if paged and per_page > max_per_page:
            return _error(
                400, f"per_page is greater than maximum {max_per_page} allowed for that endpoint"
            )
        per_page = min(per_page, max_per_page)
        paged = True
    if flows:
        if not req.query.get("per_page"):
            per_page = PAGINATE_ALL
        paged = True
    if ignore_page:
        page = 1  # a broken server, for tests of clients that must notice
    total = len(rows)
    start = (page - 1) * per_page
    chunk = rows[start : start + per_page]
    headers = [("X-Total-Count", str(total))]
    if not paged:
        return chunk, headers
    pages = math.ceil(total / per_page)
    headers += [
        ("X-Current-Page", str(page)),
        ("X-Page-Count", str(len(chunk))),
        ("X-Total-Page-Count", str(pages)),
    ]
    link = _link_header(req, origin, page, per_page, pages)
    if link:
        headers.append(("Link", link))
    return chunk, headers


def _link_header(req: RequestRecord, origin: str, page: int, per_page: int, pages: int) -> str:
    """Link as the server builds it, quirks included: the request URL with page and per_page
    cut out by pattern, then `&page=N&per_page=M` (so a URL without a query gets no `?`)."""
    url = origin + req.path
    if req.query:
        url += "?" + urlencode(req.query)
    url = re.sub(r"&?page=\d*", "", re.sub(r"&?per_page=\d*", "", url))
    if not url.endswith("?"):
        url += "&"
    previous = page - 1 if page > 1 else None
    following = page + 1 if page < pages else None
    if previous is None and following is None:
        return ""
    header = f'<{url}page={previous}&per_page={per_page}>; rel="Previous"' if previous else ""
    if previous and following:
        header += ", "
    if following:
        header += f'<{url}page={following}&per_page={per_page}>; rel="Next"'
    return header


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
        generation, wake = self.fake._connection_opened()
        try:
            self._serve_connection(request, client_address, generation, wake)
        finally:
            self.fake._connection_closed(generation)

    def _serve_connection(
        self, request: socket.socket, client_address, generation: int, wake: threading.Event
    ) -> None:
        # TLS is set up here, on the per-connection thread, rather than by wrapping the
        # listening socket: that would run every handshake inside accept() on the serving
        # thread, where one stalled client would block all the others.
        request.settimeout(10)
        try:
            conn = self.ssl_context.wrap_socket(request, server_side=True)
        except OSError:
            return  # the client gave up on the handshake or rejected our CA; nothing to serve
        try:
            self.RequestHandlerClass(conn, client_address, self, generation, wake)
        except OSError:
            pass  # the client went away mid-request (timeouts, resets): expected in these tests
        except Exception as exc:
            # A bug in the fake: kept for the test to see (and shown, as socketserver would).
            self.fake._record_error(exc, generation)
            traceback.print_exc()
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

    def __init__(
        self, request, client_address, server: _Server, generation: int, wake: threading.Event
    ) -> None:
        # Set before the base class handles the request (it does so in its __init__).
        self.generation = generation  # the server's generation when the connection came in
        self.wake = wake  # set by stop() or reset(): every sleep ends, the handler closes
        super().__init__(request, client_address, server)

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
        with fake._state_for(self.generation) as current:
            if not current:
                return  # a previous test's client: close without a word
            fake._log(record)
        rel = _normalise_key(None, record.path)[1]

        delay = fake._delay_for(record.method, rel)
        if delay and self._sleep(delay):
            return  # stopped or reset while waiting: close without answering

        with fake._state_for(self.generation) as current:
            if not current:
                return
            fault = fake._take_fault(record.method, rel)
        if fault is not None:
            if fault.kind == "hang":
                self._sleep(fault.seconds)
                return  # close without a word, however the sleep ended
            if fault.kind == "delay":
                if self._sleep(fault.seconds):
                    return
            elif fault.kind == "held":
                if self._held(fault):
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
                trickled: _Response | None
                if fault.content_type is not None:
                    trickled = _Response(fault.code, fault.content, fault.content_type)
                else:
                    trickled = self._routed(record)
                if trickled is not None:
                    self._trickle(trickled, fault.seconds, headers_too=fault.kind == "trickle_all")
                return

        response = self._routed(record)
        if response is not None:
            self._send(response)

    def _held(self, fault: Fault) -> bool:
        """Wait for the fault's gate; True if stop() or reset() cut the wait short."""
        assert fault.gate is not None
        deadline = time.monotonic() + fault.seconds
        while not fault.gate.wait(0.01):
            if self.wake.is_set():
                return True
            if time.monotonic() >= deadline:
                break
        return False

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless stop() or reset() is called; True if the sleep was cut short."""
        return self.wake.wait(seconds)

    def _routed(self, record: RequestRecord) -> _Response | None:
        """The endpoint's answer; None when the server was reset since the connection came."""
        fake = self.server.fake
        with fake._state_for(self.generation) as current:
            if not current:
                return None
            try:
                return fake._route(record)
            except Exception as exc:  # a bug in the fake: make it visible, not a hang
                fake.errors.append(exc)
                return _json(500, {"message": f"fake server error: {exc!r}", "error_code": None})

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
        """Send `per_second` bytes a second until done, the client leaves, or stop() or reset()."""
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
            if self._sleep(step / per_second):
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
            while sent < size and not self.wake.is_set():
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
