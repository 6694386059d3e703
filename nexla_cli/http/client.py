"""HTTP to the Nexla API: the one place a requests.Session is built and errors are mapped.

TLS verification is always on, timeouts are always set, redirects are never followed (a 3xx
is an error naming where it pointed, so no credential travels to another host or over plain
HTTP). GET/HEAD/OPTIONS are retried on connection errors, 429, 502, 503 and 504; other
methods only where the server says it did not process the request (429, 503) or the
connection failed before anything was sent. Retry-After is honoured (capped).

Time and size are bounded whatever the server does (docs/network.md): an attempt at a
session endpoint ends within connect + read timeout of its start however slowly the bytes
come, and its answer is read up to 1 MiB after decompression. `nexla api` answers get the
same bound up to the end of the headers; their bodies are streamed, so the read timeout
bounds each pause between chunks instead.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import time
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
)

from nexla_cli.core import settings
from nexla_cli.core.errors import (
    UNTRUSTED_CERTIFICATE,
    ApiRefused,
    AuthError,
    NetworkError,
    UsageError,
)
from nexla_cli.core.model import MAX_SECRET_LENGTH, fits_a_header
from nexla_cli.core.names import host_of
from nexla_cli.core.text import escape_controls, one_line
from nexla_cli.core.version import __version__

if TYPE_CHECKING:
    import socket
    from collections.abc import Callable, Mapping

    import requests
    from requests.adapters import BaseAdapter, HTTPAdapter
    from urllib3._base_connection import BaseHTTPConnection
    from urllib3.poolmanager import PoolManager
    from urllib3.response import BaseHTTPResponse
    from urllib3.util.retry import Retry
    from urllib3.util.timeout import _TYPE_TIMEOUT, Timeout

    from nexla_cli.core.runtime import Notices, Timing


ACCEPT = "application/vnd.nexla.api.v1+json"
USER_AGENT = f"nexla-cli/{__version__}"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_STATUSES_IDEMPOTENT = frozenset({429, 502, 503, 504})
# The server tells us it did not process the request: safe to send a POST again.
RETRY_STATUSES_UNPROCESSED = frozenset({429, 503})
MAX_RETRIES = 3
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 30.0
# Session endpoints answer a few hundred bytes; more than this is not a Nexla answer.
SESSION_BODY_LIMIT = 1024 * 1024
# Bodies are read and written this much at a time (after decompression).
CHUNK_SIZE = 64 * 1024


def timeouts(environ: Mapping[str, str]) -> Tuple[float, float]:
    """(connect, read) seconds: $NEXLA_TIMEOUT for both, else 10 and 30."""
    value = settings.timeout(environ)
    if value is None:
        return DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
    return value, value


def retry_after_seconds(value: str, cap: float, now: float) -> float | None:
    """How long a `Retry-After` asks to wait, at most `cap` seconds; None when it is neither
    a whole number of seconds nor an HTTP date (then the usual backoff applies)."""
    import email.utils

    text = value.strip()
    if text.isascii() and text.isdigit():
        # Thousands of digits are a long wait, not an error (int() refuses that many).
        return cap if len(text) > 12 else min(float(int(text)), cap)
    try:
        moment = email.utils.parsedate_tz(text)
        if moment is None:
            return None
        return min(max(email.utils.mktime_tz(moment) - now, 0.0), cap)
    except (ValueError, OverflowError, TypeError, IndexError):
        return None


def _retry_policy(backoff: float, max_retry_after: float, now: Callable[[], float]) -> Retry:
    from urllib3.util.retry import Retry

    class NexlaRetry(Retry):
        def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
            if method.upper() in IDEMPOTENT_METHODS:
                return status_code in RETRY_STATUSES_IDEMPOTENT
            return status_code in RETRY_STATUSES_UNPROCESSED

        def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
            # urllib3 raises on a value it cannot read, which gave the request up as a
            # malformed answer; such a header is ignored instead, and the backoff applies.
            value = response.headers.get("Retry-After")
            if value is None:
                return None
            return retry_after_seconds(value, max_retry_after, now())

    return NexlaRetry(
        total=MAX_RETRIES,
        connect=MAX_RETRIES,
        # Read errors happen after the request went out: only idempotent methods retry.
        read=MAX_RETRIES,
        status=MAX_RETRIES,
        other=0,
        redirect=False,
        allowed_methods=IDEMPOTENT_METHODS,
        backoff_factor=backoff,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )


def load_before_threads() -> None:
    """Import requests in this thread, before several threads send at once: each would
    otherwise import it at the same moment, on first use."""
    import requests  # noqa: F401


class HttpContext:
    """What the HTTP layer takes from a run: its environment variables (timeouts, CA bundle,
    proxies), its waits, its clock, where warnings go, and where `--debug` lines go (None:
    not debugging)."""

    def __init__(
        self,
        environ: Mapping[str, str],
        timing: Timing,
        *,
        clock: Callable[[], float],
        notices: Notices,
        debug_log: Callable[[str], None] | None = None,
    ) -> None:
        self.environ = environ
        self.timing = timing
        self.now = clock
        self.notices = notices
        self._debug_log = debug_log

    @property
    def debugging(self) -> bool:
        return self._debug_log is not None

    def log(self, line: str) -> None:
        if self._debug_log is not None:
            self._debug_log(line)


def build_session(context: HttpContext) -> requests.Session:
    """The requests.Session for one command: headers, retries, verification on.

    The environment it honours (REQUESTS_CA_BUNDLE, HTTPS_PROXY, NO_PROXY) is the run's,
    read in environment_settings, not the process's.
    """

    _replace_clock_warning(context)
    session = _session_class()()
    session.trust_env = False
    session.headers.update({"Accept": ACCEPT, "User-Agent": USER_AGENT})
    session.verify = True
    policy = _retry_policy(
        context.timing.retry_backoff, context.timing.max_retry_after, context.now
    )
    adapter = _deadline_classes().adapter(max_retries=policy)
    session.mount("https://", adapter)
    # Nothing is ever sent over plain HTTP; refuse at the transport as well.
    session.mount("http://", _RefusePlainHttp())
    return session


@functools.lru_cache(maxsize=None)
def _session_class() -> type[requests.Session]:
    import requests

    class NeverRedirects(requests.Session):
        """A Session that never works out where a redirect leads.

        requests does so even when told not to follow (for `Response.next`), decoding the
        `Location` bytes as UTF-8 and raising on any that are not; the redirect is reported
        by Client.request instead, its bytes shown escaped (header_text).
        """

        def get_redirect_target(self, resp: requests.Response) -> None:
            return None

    return NeverRedirects


def header_text(value: str) -> str:
    """A header value from a server as text: http.client hands every header over decoded
    as Latin-1, one character a byte; the bytes are read as UTF-8 here, and any that are
    not UTF-8 are shown escaped (`\\xff`). A value that is not Latin-1 is already text."""
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        return value
    return raw.decode("utf-8", "backslashreplace")


def environment_settings(url: str, environ: Mapping[str, str]) -> Dict[str, Any]:
    """The send() settings requests would take from the environment (a CA bundle, proxies
    unless NO_PROXY exempts the host), taken from the run's variables instead."""
    verify: Any = environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE") or True
    return {"verify": verify, "proxies": proxies_for(url, environ), "cert": None, "stream": True}


def proxies_for(url: str, environ: Mapping[str, str]) -> Dict[str, str]:
    """The proxies requests would use for URL (`requests.utils.get_environ_proxies(url)`),
    with `environ` read where requests reads os.environ: the same steps for the process and
    for a test's variables, and os.environ is never written (requests' own way sets
    no_proxy in it for a moment, which threads checking several hosts at once would see).

    As requests: the `*_proxy` variables in any case, lower-case first (an empty lower-case
    one clears its upper-case twin); none at all when NO_PROXY exempts the host; on macOS
    and Windows the system's settings when no variable names a proxy.
    """
    variables = _proxy_variables(environ)
    if _bypasses_proxies(url, environ, variables):
        return {}
    return variables or _system_proxies()


def _proxy_variables(environ: Mapping[str, str]) -> Dict[str, str]:
    """urllib's getproxies_environment() on `environ`: {scheme: proxy}, `no` for NO_PROXY."""
    proxies = {
        name.lower()[:-6]: value
        for name, value in environ.items()
        if value and name.lower().endswith("_proxy")
    }
    if "REQUEST_METHOD" in environ:
        # A CGI script's HTTP_PROXY may come from a client's `Proxy:` header (httpoxy).
        proxies.pop("http", None)
    for name, value in environ.items():
        if name.endswith("_proxy"):  # lower-case names win, set or empty
            if value:
                proxies[name.lower()[:-6]] = value
            else:
                proxies.pop(name.lower()[:-6], None)
    return proxies


def _bypasses_proxies(url: str, environ: Mapping[str, str], variables: Dict[str, str]) -> bool:
    """requests.utils.should_bypass_proxies(url, no_proxy=None) on `environ`."""
    import socket
    from urllib.parse import urlparse
    from urllib.request import proxy_bypass_environment  # type: ignore[attr-defined]

    parsed = urlparse(url)
    hostname = parsed.hostname
    if hostname is None:
        return True
    no_proxy = environ.get("no_proxy") or environ.get("NO_PROXY")
    if no_proxy and _listed_in_no_proxy(hostname, parsed.port, no_proxy):
        return True
    try:
        if variables:
            return bool(proxy_bypass_environment(hostname, variables))
        return _system_bypass(hostname)
    except (TypeError, socket.gaierror):
        return False


def _listed_in_no_proxy(hostname: str, port: Optional[int], no_proxy: str) -> bool:
    """requests' own NO_PROXY match: an IPv4 address by address or CIDR block, a name by
    itself or as a suffix, with or without the port."""
    from requests.utils import address_in_network, is_ipv4_address, is_valid_cidr

    entries = [entry for entry in no_proxy.replace(" ", "").split(",") if entry]
    if is_ipv4_address(hostname):
        return any(
            address_in_network(hostname, entry) if is_valid_cidr(entry) else hostname == entry
            for entry in entries
        )
    host_with_port = f"{hostname}:{port}" if port else hostname
    for entry in entries:
        entry = entry.lstrip(".")
        if entry in (hostname, host_with_port):
            return True
        if hostname.endswith("." + entry) or host_with_port.endswith("." + entry):
            return True
    return False


def _system_proxies() -> Dict[str, str]:
    """The system's proxy settings, which requests takes when no variable names a proxy:
    macOS's and Windows' own; other systems have none beyond the variables."""
    import sys
    import urllib.request

    # Looked up by name: typeshed does not declare these two (they exist on their systems).
    if sys.platform == "darwin":
        return dict(getattr(urllib.request, "getproxies_macosx_sysconf")())  # noqa: B009
    if sys.platform == "win32":
        return dict(getattr(urllib.request, "getproxies_registry")())  # noqa: B009
    return {}


def _system_bypass(hostname: str) -> bool:
    """Whether the system's settings exempt HOSTNAME, when no variable names a proxy."""
    import sys

    if sys.platform == "darwin":
        import urllib.request

        return bool(getattr(urllib.request, "proxy_bypass_macosx_sysconf")(hostname))  # noqa: B009
    if sys.platform == "win32":
        from requests.utils import proxy_bypass_registry

        return bool(proxy_bypass_registry(hostname))
    return False


def check_ca_bundle(environ: Mapping[str, str]) -> None:
    """Exit 2 naming the file when the CA bundle requests would use is missing or unreadable.

    requests reads REQUESTS_CA_BUNDLE, else CURL_CA_BUNDLE, and on a bad path fails the
    first request with a bare OSError; checking here lets a sign-in refuse it before the
    browser opens.
    """
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        path = environ.get(variable)
        if not path:
            continue
        if not os.path.exists(path):
            problem = "does not exist"
        elif not os.access(path, os.R_OK):
            problem = "cannot be read"
        elif os.path.isfile(path) and not _holds_a_certificate(path):
            # ssl would refuse it in the handshake, reported as a server not trusted.
            problem = "is not a certificate file"
        else:
            return
        raise UsageError(
            f"the CA bundle named by {variable} {problem}: {one_line(path)}",
            hint=f"point {variable} at a PEM file of trusted CA certificates, or unset it",
        )


# How much of a CA bundle is searched for a certificate: bundles are a few hundred KiB.
CA_BUNDLE_SEARCHED = 8 * 1024 * 1024


def _holds_a_certificate(path: str) -> bool:
    """Whether a CA bundle has a PEM certificate in it, as ssl loads them."""
    try:
        with open(path, "rb") as bundle:
            return b"-----BEGIN " in bundle.read(CA_BUNDLE_SEARCHED)
    except OSError:
        return True  # unreadable now: the request reports it as it happens


def _RefusePlainHttp() -> BaseAdapter:
    from requests.adapters import BaseAdapter

    class RefusePlainHttp(BaseAdapter):
        def send(
            self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
        ) -> requests.Response:
            raise NetworkError(f"refusing to send a request over plain http: {request.url}")

        def close(self) -> None:
            pass

    return RefusePlainHttp()


class AttemptClock:
    """Ends an attempt that runs past its deadline by shutting its connection down.

    Socket timeouts bound each pause, not the whole: a server sending one byte a second
    never trips them. So each attempt (each request urllib3 sends, retries included) gets a
    timer of connect + read timeout from its start; when it fires, the socket is shut down
    and the blocked read fails at once. `whole_body` keeps the timer running until the
    caller has read the body (session endpoints); otherwise it stops at the headers.
    """

    def __init__(self, limit: float, whole_body: bool) -> None:
        self.limit = limit
        self.whole_body = whole_body
        self.fired = False
        # How many attempts were started, since when: what a timeout's message reports.
        self.attempts = 0
        self.began = time.monotonic()
        self._lock = threading.Lock()
        self._timer: Optional[threading.Timer] = None

    # `connection` is urllib3's connection for the attempt; only its socket is used.
    def start(self, connection: object) -> None:
        self.stop()
        self.attempts += 1
        with self._lock:
            self._timer = self._arm(self.limit, connection)

    def stop(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _arm(self, seconds: float, connection: object) -> threading.Timer:
        timer = threading.Timer(seconds, self._fire, args=(connection,))
        timer.daemon = True  # never keeps the process alive
        timer.start()
        return timer

    def _fire(self, connection: object) -> None:
        import socket

        with self._lock:
            if self._timer is None or self._timer is not threading.current_thread():
                return  # stopped (or re-armed) meanwhile
            # http.client lets go of `sock` once the headers say the connection will close;
            # the socket read from is then the one kept at connect.
            sock = getattr(connection, "sock", None) or getattr(connection, "watched_sock", None)
            if sock is None:
                # Still resolving the name: look again shortly; the connect timeout
                # bounds that step on its own.
                self._timer = self._arm(0.05, connection)
                return
            self.fired = True
            self._timer = None
        try:
            # The plain socket's shutdown, so the TLS object is left alone for the reader.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass


class _DeadlineClasses(NamedTuple):
    # A urllib3 Timeout that carries an attempt's clock: (connect, read, clock).
    timeout: Callable[[float, float, AttemptClock], Timeout]
    # The requests adapter whose connection pools start and stop that clock.
    adapter: type[HTTPAdapter]


@functools.lru_cache(maxsize=None)
def _deadline_classes() -> _DeadlineClasses:
    """urllib3/requests classes that give each attempt an AttemptClock (built once)."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPSConnection
    from urllib3.connectionpool import HTTPSConnectionPool
    from urllib3.util.timeout import Timeout

    class AttemptTimeout(Timeout):
        """urllib3's (connect, read) timeout, carrying the clock to the connection pool."""

        def __init__(self, connect: _TYPE_TIMEOUT, read: _TYPE_TIMEOUT, clock: AttemptClock):
            super().__init__(connect=connect, read=read)
            self.clock = clock

        def clone(self) -> AttemptTimeout:
            return AttemptTimeout(self._connect, self._read, self.clock)

    class WatchedConnection(HTTPSConnection):
        """Keeps the socket it connected, for AttemptClock to shut down."""

        watched_sock: Optional[socket.socket] = None

        def connect(self) -> None:
            self.watched_sock = None
            super().connect()
            self.watched_sock = self.sock

    class WatchedPool(HTTPSConnectionPool):
        ConnectionCls = WatchedConnection

        def _make_request(
            self, conn: BaseHTTPConnection, *args: Any, **kwargs: Any
        ) -> BaseHTTPResponse:
            clock = getattr(kwargs.get("timeout"), "clock", None)
            if clock is None:
                return super()._make_request(conn, *args, **kwargs)
            clock.start(conn)
            try:
                response = super()._make_request(conn, *args, **kwargs)
            except BaseException:
                clock.stop()
                raise
            if not clock.whole_body:
                clock.stop()
            return response

    def watched(manager: PoolManager) -> PoolManager:
        manager.pool_classes_by_scheme = {**manager.pool_classes_by_scheme, "https": WatchedPool}
        return manager

    class WatchedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            watched(self.poolmanager)

        def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
            return watched(super().proxy_manager_for(proxy, **proxy_kwargs))

    return _DeadlineClasses(timeout=AttemptTimeout, adapter=WatchedAdapter)


def _replace_clock_warning(context: HttpContext) -> None:
    """urllib3's raw SystemTimeWarning (with a source line) becomes one `warning:` line."""
    import datetime
    import warnings

    from urllib3.connection import RECENT_DATE
    from urllib3.exceptions import SystemTimeWarning

    warnings.simplefilter("ignore", SystemTimeWarning)
    today = datetime.datetime.fromtimestamp(context.now()).date()
    if today < RECENT_DATE:
        context.notices.warn(
            f"the system clock says {today.isoformat()}, before this software was built "
            f"({RECENT_DATE.isoformat()}); certificates may fail to verify until it is set right"
        )


class NexlaClient:
    """Calls to one environment's API base URL."""

    def __init__(self, api_url: str, context: HttpContext) -> None:
        self.api_url = api_url.rstrip("/")
        self._context = context
        self._session: Optional[requests.Session] = None

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = build_session(self._context)
        return self._session

    def url_for(self, path: str) -> str:
        return self.api_url + "/" + path.lstrip("/")

    def request(
        self,
        method: str,
        path: str,
        *,
        token: Optional[str] = None,
        service_key: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        params: Optional[Sequence[Tuple[str, str]]] = None,
        data: Optional[bytes] = None,
        stream: bool = False,
    ) -> requests.Response:
        """Send one request (with the retries above); network failures become NetworkError.

        The response is returned whatever its status, except a redirect, which is an error.
        Without `stream` (the session endpoints) the body is read here, up to
        SESSION_BODY_LIMIT, inside the attempt's deadline; with it the caller reads the body
        (`body_chunks`, `read_body`) and the deadline ends with the headers.
        """
        url = self.url_for(path) if "://" not in path else path
        secrets = (token, service_key)
        prepared = self._prepare(
            _authorized_request(method, url, headers, params, data, token, service_key), secrets
        )
        response = self._send(prepared, url, stream=stream)
        _refuse_redirect(response, method, url, secrets)
        return response

    def _prepare(
        self, request: requests.Request, secrets: Tuple[Optional[str], Optional[str]]
    ) -> requests.PreparedRequest:
        """The request as it will be sent; a header or URL requests refuses is a UsageError
        that never quotes the token or key."""
        import requests

        try:
            return self.session.prepare_request(request)
        except requests.exceptions.InvalidHeader as exc:
            # requests quotes the offending value, which may be the token itself.
            raise UsageError(f"invalid header: {one_line(scrub(str(exc), *secrets))}") from None
        except requests.exceptions.InvalidURL:
            raise UsageError(f"not a valid URL: {one_line(str(request.url))!r}") from None

    def _send(
        self, prepared: requests.PreparedRequest, url: str, *, stream: bool
    ) -> requests.Response:
        """Send with the adapter's retries; a GET whose answer breaks off mid-body is sent again.

        urllib3 retries what goes wrong up to the response headers. The body is read
        afterwards, outside its reach, so a connection reset or a stall while reading it is
        retried here, for idempotent methods only and on the same backoff schedule.
        """
        import requests

        retries_left = MAX_RETRIES if prepared.method in IDEMPOTENT_METHODS and not stream else 0
        context = self._context
        check_ca_bundle(context.environ)
        # REQUESTS_CA_BUNDLE, HTTPS_PROXY and NO_PROXY apply as requests documents.
        send_settings = environment_settings(prepared.url or url, context.environ)
        connect, read = timeouts(context.environ)
        clock = AttemptClock(connect + read, whole_body=not stream)
        timeout = _deadline_classes().timeout(connect, read, clock)
        attempt = 0
        while True:
            _log_request(context, prepared)
            response = None
            try:
                response = self.session.send(
                    prepared, timeout=timeout, allow_redirects=False, **send_settings
                )
                if stream:
                    _log_response(context, response)
                else:
                    try:
                        read_body(response, SESSION_BODY_LIMIT)
                    finally:
                        _log_response(context, response)
                return response
            except UnicodeEncodeError:
                # http.client sends header values as Latin-1; never echo the value.
                raise UsageError(
                    "a header value has characters that cannot be sent (use ASCII)"
                ) from None
            except requests.exceptions.RequestException as exc:
                # One budget for both layers: retries urllib3 already spent on this send
                # count here too, so a server failing both ways is not tried 4 x 4 times.
                if response is not None:
                    retries_left -= _retries_spent(response)
                if response is None or retries_left <= 0:
                    note = ""
                    if _timed_out(exc, clock):
                        spent = time.monotonic() - clock.began
                        note = timeout_note(clock.attempts, spent, connect, read)
                    raise NetworkError(describe_failure(exc, url, clock) + note) from None
                response.close()
                context.log(f"! the answer broke off ({type(exc).__name__}); sending it again")
            finally:
                clock.stop()
            retries_left -= 1
            attempt += 1
            time.sleep(0 if attempt == 1 else context.timing.retry_backoff * 2 ** (attempt - 1))

    # Nexla's own endpoints -------------------------------------------------------------

    def current_user(self, token: str) -> Dict[str, Any]:
        """GET /users/current: {"user": …, "org": …} for a token the server accepts."""
        response = self.request("GET", "/users/current", token=token)
        _raise_for_session_status(response)
        return parse_current_user(response.content, response.url)

    def refresh(self, token: str) -> Dict[str, Any]:
        """POST /token/refresh; the old token is dead afterwards.

        A 4xx other than 401, 403 and 429 is ApiRefused: this server does not offer a
        refresh (not all deployments do), which the caller tells apart from an outage.
        """
        response = self.request("POST", "/token/refresh", token=token)
        if 400 <= response.status_code < 500 and response.status_code not in (401, 403, 429):
            raise_for_status(response)
        return self._token_response(response)

    def mint(self, service_key: str) -> Dict[str, Any]:
        """POST /token with the service key."""
        return self._token_response(self.request("POST", "/token", service_key=service_key))

    def logout(self, token: str) -> None:
        _raise_for_session_status(self.request("POST", "/token/logout", token=token))

    def _token_response(self, response: requests.Response) -> Dict[str, Any]:
        _raise_for_session_status(response)
        return parse_token_response(response.content, response.url)


def parse_token_response(content: bytes, url: str) -> Dict[str, Any]:
    """The body of a 200 from POST /token or /token/refresh, checked as strictly as a token a
    user pastes: NetworkError (exit 5, nothing stored) unless `access_token` is printable
    ASCII without spaces and at most MAX_SECRET_LENGTH long. `expires_in` is judged later
    (model.lifetime_from_server): an odd one is an unknown lifetime, not an error.
    """
    body = parse_json(content, url, 200)
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(token, str) or not token:
        raise NetworkError(
            f"unexpected answer from {url_for_message(url)}: not a token response "
            "(no access_token); nothing was changed"
        )
    if len(token) > MAX_SECRET_LENGTH:
        raise NetworkError(
            f"the server at {url_for_message(url)} sent a token longer than "
            f"{MAX_SECRET_LENGTH // 1024} KiB; it was not stored"
        )
    if not fits_a_header(token):
        raise NetworkError(
            f"the server at {url_for_message(url)} sent a token with spaces, control or "
            "non-ASCII characters; it was not stored"
        )
    return body


def parse_current_user(content: bytes, url: str) -> Dict[str, Any]:
    """{"user": …, "org": …} from the body of a 200 from GET /users/current."""
    body = parse_json(content, url, 200)
    if not isinstance(body, dict):
        raise NetworkError(f"unexpected answer from {url_for_message(url)}: not a JSON object")
    user = body.get("user") if isinstance(body.get("user"), dict) else body
    return {"user": user, "org": body.get("org")}


def _retries_spent(response: requests.Response) -> int:
    """How many retries urllib3 made before this response arrived."""
    retries = getattr(response.raw, "retries", None)
    return len(getattr(retries, "history", ()) or ())


def json_body(response: requests.Response) -> Any:
    """The JSON in a response's (already read) body: any JSON value."""
    return parse_json(response.content, response.url, response.status_code)


def parse_json(content: bytes, url: str, status: int = 200) -> Any:
    """The JSON in a body; NetworkError for anything else (bad bytes, too deeply nested)."""
    import json

    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        # ValueError covers bad UTF-8 and bad JSON alike.
        raise NetworkError(
            f"unexpected answer from {url_for_message(url)}: HTTP {status} "
            "with a body that is not JSON"
        ) from None


def read_body(response: requests.Response, limit: int) -> bytes:
    """Read the (decompressed) body into response.content, at most `limit` bytes.

    A 2xx answer larger than that is a NetworkError; an error answer is cut at `limit`,
    since its body only serves for its message and its status decides the outcome.
    """
    chunks: List[bytes] = []
    size = 0
    for chunk in response.iter_content(CHUNK_SIZE):
        size += len(chunk)
        if size > limit:
            response.close()
            if 200 <= response.status_code < 300:
                raise NetworkError(
                    f"the answer from {url_for_message(response.url)} is larger than "
                    f"{_size(limit)}, more than the API sends; it was not used"
                )
            chunks.append(chunk[: limit - (size - len(chunk))])
            break
        chunks.append(chunk)
    content = b"".join(chunks)
    # requests' own attributes, so response.content and .json() work as usual.
    response._content = content
    response._content_consumed = True
    return content


def read_streamed(response: requests.Response, limit: int) -> bytes:
    """read_body for a streamed answer (`nexla api`): a transport failure while reading
    becomes a NetworkError, as it does for the headers."""
    import requests

    try:
        return read_body(response, limit)
    except requests.exceptions.RequestException as exc:
        raise NetworkError(describe_failure(exc, response.url)) from None


def body_chunks(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives (decompressed), at most CHUNK_SIZE bytes at a time.

    Each piece is handed on as soon as the server has sent some, so memory stays at one
    chunk whatever the body's size; the read timeout bounds each pause between pieces.
    """
    import urllib3.exceptions

    raw = response.raw
    try:
        while True:
            chunk = raw.read1(CHUNK_SIZE, decode_content=True)
            if not chunk:
                return
            yield chunk
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        host = host_of(response.url)
        if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
            raise NetworkError(f"timed out waiting for {host} to send the rest") from None
        if isinstance(exc, urllib3.exceptions.DecodeError):
            raise NetworkError(f"the answer from {host} could not be decompressed") from None
        raise NetworkError(f"the connection to {host} broke while reading its answer") from None


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"


def _authorized_request(
    method: str,
    url: str,
    headers: Optional[Mapping[str, str]],
    params: Optional[Sequence[Tuple[str, str]]],
    data: Optional[bytes],
    token: Optional[str],
    service_key: Optional[str],
) -> requests.Request:
    """The request with its Authorization header: a bearer token, else Nexla's Basic service
    key. A token or key that cannot be a header value is a UsageError, and nothing is sent."""
    import requests

    for secret, what in ((token, "token"), (service_key, "service key")):
        if secret is not None and not fits_a_header(secret):
            raise UsageError(
                f"the {what} contains spaces, control or non-ASCII characters; "
                "it cannot be sent and was not"
            )
    all_headers = dict(headers or {})
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    elif service_key is not None:
        # Nexla takes the service key as given, without a base64 step.
        all_headers["Authorization"] = f"Basic {service_key}"
    return requests.Request(method.upper(), url, headers=all_headers, params=params, data=data)


def _refuse_redirect(
    response: requests.Response,
    method: str,
    url: str,
    secrets: Tuple[Optional[str], Optional[str]],
) -> None:
    """A redirect is a NetworkError naming where it pointed: redirects are never followed.
    304 Not Modified answers a conditional request (-H 'If-None-Match: …'): no body, nothing
    to follow."""
    if not 300 <= response.status_code < 400 or response.status_code == 304:
        return
    response.close()
    location = response.headers.get("Location")
    location = None if location is None else header_text(location)
    # Shown like any URL in a message: no query-string values, controls escaped.
    shown = (
        url_for_message(scrub(location, *secrets))
        if location is not None
        else "(no Location header)"
    )
    raise NetworkError(
        f"{method.upper()} {url_for_message(url)} answered {response.status_code} "
        f"redirecting to {shown}; redirects are not followed"
    )


def url_for_message(url: str) -> str:
    """A URL to show in a message: no query-string values (they may hold secrets), no
    control characters, not overlong."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return one_line(escape_controls(url.split("?", 1)[0]), limit=200)
    shown = f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme else parts.path
    if parts.query:
        shown += "?…"
    return one_line(escape_controls(shown), limit=200)


def _raise_for_session_status(response: requests.Response) -> None:
    """raise_for_status for the session endpoints every Nexla API has.

    Exit 6 is for `nexla api` requests the API refuses; a 404 or 400 from /users/current or
    /token means the API is not where the URL says (or not what it promises): exit 5.
    """
    try:
        raise_for_status(response)
    except ApiRefused:
        # Nexla's 404s have empty bodies: name the status once, with the URL once.
        raise NetworkError(
            f"unexpected answer from {response.url}: {server_message(response, named=False)}",
            hint="check the environment's API URL (`nexla env show`; `--api-url` at configure)",
        ) from None


def raise_for_status(response: requests.Response, body: Optional[bytes] = None) -> None:
    """Map a non-2xx answer to the error (and exit code) the contract gives it.

    `body` is the start of a body streamed elsewhere (see server_message).
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    message = server_message(response, body)
    if status in (401, 403):
        raise AuthError(message)
    if status == 429:
        raise NetworkError(f"{message} (rate limited; still refused after {MAX_RETRIES} retries)")
    if status >= 500:
        raise NetworkError(message)
    raise ApiRefused(message)


def server_message(
    response: requests.Response, body: Optional[bytes] = None, *, named: bool = True
) -> str:
    """The server's `message`, else the status line; one line, never an HTML page.

    `body` is the start of a body that was streamed elsewhere (`nexla api`); otherwise the
    response's content. Control characters are escaped, credentials redacted, the URL shown
    without its query-string values, and the line kept to about 300 characters. Nexla
    answers 401, 403 and 404 with empty bodies, so the status line is often all there is;
    `named` adds the request to it, for messages that do not name it already.
    """
    import json

    content = response.content if body is None else body
    text = ""
    content_type = response.headers.get("Content-Type", "")
    if "json" in content_type or content[:1] in (b"{",):
        try:
            parsed = json.loads(content)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
            # A server may quote the credential it refused ("invalid token tok-…"), or
            # send a new one alongside.
            secrets = [_credential_sent(response.request), *credentials_in(parsed)]
            text = scrub(parsed["message"], *secrets)
    reason = one_line(escape_controls(header_text(response.reason or "")), limit=80)
    status_line = f"HTTP {response.status_code} {reason}".strip()
    if not text:
        if not named:
            return status_line
        method = response.request.method if response.request is not None else ""
        return f"{status_line} from {method} {url_for_message(response.url)}".replace("  ", " ")
    return f"{one_line(escape_controls(text), limit=240)} ({status_line})"


def scrub(text: str, *secrets: Optional[str]) -> str:
    """text with every given secret replaced by [redacted]."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            # Also as repr() quotes it (escaped line breaks), which is how requests does.
            for form in (secret, repr(secret)[1:-1]):
                text = text.replace(form, "[redacted]")
    return text


def _credential_sent(request: Optional[requests.PreparedRequest]) -> Optional[str]:
    value = request.headers.get("Authorization", "") if request is not None else ""
    if not isinstance(value, str):
        return None  # never sent as bytes: nexla sets it, as text
    return value.split(" ", 1)[1] if " " in value else None


# Keys under which a JSON answer carries a credential (Nexla: access_token, and api_key in
# org_membership); values under them are redacted wherever an answer is logged or quoted.
_CREDENTIAL_KEYS = re.compile(r"token|api_?key|secret|password|credential|session_?key", re.I)


def credentials_in(data: object, depth: int = 0) -> List[str]:
    """Every string held under a credential-like key anywhere in parsed JSON."""
    found: List[str] = []
    if depth > 20:
        return found
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str) and _CREDENTIAL_KEYS.search(str(key)):
                found.append(value)
            elif isinstance(value, (dict, list)):
                found += credentials_in(value, depth + 1)
    elif isinstance(data, list):
        for item in data:
            found += credentials_in(item, depth + 1)
    return found


def timeout_note(attempts: int, spent: float, connect: float, read: float) -> str:
    """How many attempts a request that timed out had, over how many seconds, and what each
    was allowed: the bound docs/network.md states, as this run met it."""
    allowed = f"allowed {connect:g} s to connect and {read:g} s to answer"
    if attempts <= 1:
        return f" (1 attempt, {allowed})"
    return f" ({attempts} attempts over {spent:.0f} s, each {allowed})"


def _timed_out(exc: Exception, clock: AttemptClock) -> bool:
    import requests

    if clock.fired or isinstance(exc, requests.exceptions.Timeout):
        return True
    # Retries spent on timeouts end as a ConnectionError that says so.
    return isinstance(exc, requests.exceptions.ConnectionError) and "timed out" in str(exc)


def describe_failure(exc: Exception, url: str, clock: Optional[AttemptClock] = None) -> str:
    """One line for a transport failure; never the exception's internals."""
    import requests

    host = host_of(url)
    if clock is not None and clock.fired:
        # The attempt was cut at its deadline; whatever broke is a consequence of that.
        return f"{host} did not answer within {clock.limit:g} seconds (connect + read timeout)"
    if isinstance(exc, requests.exceptions.SSLError):
        reason = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" not in reason and "certificate" not in reason.lower():
            # A connection cut mid-way also surfaces as an SSL error; it is not about trust.
            return f"the TLS connection to {host} broke"
        return f"TLS verification failed for {host}: {UNTRUSTED_CERTIFICATE}"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"timed out connecting to {host}"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return f"timed out waiting for {host} to answer"
    if isinstance(
        exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)
    ):
        return f"the connection to {host} broke while reading its answer"
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = str(exc)
        if "Connection refused" in reason:
            return f"cannot connect to {host}: connection refused"
        if "Name or service not known" in reason or "nodename nor servname" in reason:
            return f"cannot resolve {host}"
        if "timed out" in reason.lower():
            return f"timed out talking to {host}"
        if "reset" in reason.lower() or "aborted" in reason.lower():
            return f"the connection to {host} was reset"
        return f"cannot connect to {host}"
    if isinstance(exc, requests.exceptions.InvalidHeader):
        # Our own headers were checked before sending: this is the answer's fault (e.g. two
        # different Content-Length headers).
        return f"the answer from {host} has malformed headers"
    return f"request to {host} failed: {type(exc).__name__}"


_SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie", "set-cookie")
# Header names that may carry a credential in an answer (X-Access-Token, X-Api-Key…).
_SECRET_HEADER_NAME = re.compile(r"auth|token|key|secret|session|cookie|password|credential", re.I)
# A JWT, wherever it appears: three base64url parts, the first two JSON objects.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def _redact(name: str, value: str) -> str:
    if name.lower() not in _SECRET_HEADERS and not _SECRET_HEADER_NAME.search(name):
        return _JWT.sub("[redacted]", value)
    scheme = value.split(" ", 1)[0] if " " in value else ""
    if scheme.lower() not in ("bearer", "basic", "token"):
        scheme = ""
    return f"{scheme} [redacted]".strip()


def _log_request(context: HttpContext, prepared: requests.PreparedRequest) -> None:
    if not context.debugging:
        return
    context.log(f"> {prepared.method} {prepared.url}")
    for name, value in prepared.headers.items():
        # Header values are text here; bytes would go out as Latin-1, as http.client sends.
        text = value if isinstance(value, str) else value.decode("latin-1")
        context.log(f"> {name}: {_redact(name, text)}")


def _log_response(context: HttpContext, response: requests.Response) -> None:
    """The status line and headers; every credential redacted, the one sent and any the
    answer carries (in a header, or in a body already read)."""
    if not context.debugging:
        return
    secrets = [_credential_sent(response.request)]
    content = getattr(response, "_content", None)
    if isinstance(content, bytes) and content[:1] in (b"{", b"["):
        try:
            import json

            secrets += credentials_in(json.loads(content))
        except (ValueError, RecursionError):
            pass
    reason = escape_controls(header_text(response.reason or ""))
    context.log(f"< HTTP {response.status_code} {reason}".rstrip())
    for name, value in response.headers.items():
        shown = escape_controls(scrub(_redact(name, header_text(value)), *secrets))
        context.log(f"< {escape_controls(name)}: {shown}")
