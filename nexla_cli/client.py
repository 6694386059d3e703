"""HTTP to the Nexla API: the one place a requests.Session is built and errors are mapped.

TLS verification is always on, timeouts are always set, redirects are never followed (a 3xx
is an error naming where it pointed, so no credential travels to another host or over plain
HTTP). GET/HEAD/OPTIONS are retried on connection errors, 429, 502, 503 and 504; other
methods only where the server says it did not process the request (429, 503) or the
connection failed before anything was sent. Retry-After is honoured (capped).
"""

import math
import os
import re
import time
from typing import Optional, Tuple

from nexla_cli import __version__, output
from nexla_cli.errors import ApiRefused, AuthError, NetworkError, UsageError
from nexla_cli.model import fits_a_header

ACCEPT = "application/vnd.nexla.api.v1+json"
USER_AGENT = f"nexla-cli/{__version__}"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_STATUSES_IDEMPOTENT = frozenset({429, 502, 503, 504})
# The server tells us it did not process the request: safe to send a POST again.
RETRY_STATUSES_UNPROCESSED = frozenset({429, 503})
MAX_RETRIES = 3
BACKOFF_FACTOR = 0.5
MAX_RETRY_AFTER_SECONDS = 10.0
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 30.0


def timeouts() -> Tuple[float, float]:
    """(connect, read) seconds: $NEXLA_TIMEOUT for both, else 10 and 30."""
    raw = os.environ.get("NEXLA_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (value > 0 and math.isfinite(value)):
        raise UsageError(f"NEXLA_TIMEOUT must be a positive number of seconds, not {raw!r}")
    return value, value


def _retry_policy():
    from urllib3.util.retry import Retry

    class NexlaRetry(Retry):
        def is_retry(self, method, status_code, has_retry_after=False):
            if method.upper() in IDEMPOTENT_METHODS:
                return status_code in RETRY_STATUSES_IDEMPOTENT
            return status_code in RETRY_STATUSES_UNPROCESSED

        def parse_retry_after(self, retry_after):
            return min(super().parse_retry_after(retry_after), MAX_RETRY_AFTER_SECONDS)

    return NexlaRetry(
        total=MAX_RETRIES,
        connect=MAX_RETRIES,
        # Read errors happen after the request went out: only idempotent methods retry.
        read=MAX_RETRIES,
        status=MAX_RETRIES,
        other=0,
        redirect=False,
        allowed_methods=IDEMPOTENT_METHODS,
        backoff_factor=BACKOFF_FACTOR,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )


def build_session():
    """The requests.Session for one command: headers, retries, verification on."""
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    session.headers.update({"Accept": ACCEPT, "User-Agent": USER_AGENT})
    session.verify = True
    adapter = HTTPAdapter(max_retries=_retry_policy())
    session.mount("https://", adapter)
    # Nothing is ever sent over plain HTTP; refuse at the transport as well.
    session.mount("http://", _RefusePlainHttp())
    return session


def check_ca_bundle() -> None:
    """Exit 2 naming the file when the CA bundle requests would use is missing or unreadable.

    requests reads REQUESTS_CA_BUNDLE, else CURL_CA_BUNDLE, and on a bad path fails the
    first request with a bare OSError; checking here lets a sign-in refuse it before the
    browser opens.
    """
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        path = os.environ.get(variable)
        if not path:
            continue
        if not os.path.exists(path):
            problem = "does not exist"
        elif not os.access(path, os.R_OK):
            problem = "cannot be read"
        else:
            return
        raise UsageError(
            f"the CA bundle named by {variable} {problem}: {_one_line(path)}",
            hint=f"point {variable} at a PEM file of trusted CA certificates, or unset it",
        )


def _RefusePlainHttp():
    from requests.adapters import BaseAdapter

    class RefusePlainHttp(BaseAdapter):
        def send(self, request, **kwargs):
            raise NetworkError(f"refusing to send a request over plain http: {request.url}")

        def close(self):
            pass

    return RefusePlainHttp()


class NexlaClient:
    """Calls to one environment's API base URL."""

    def __init__(self, api_url: str):
        self.api_url = api_url.rstrip("/")
        self._session = None

    @property
    def session(self):
        if self._session is None:
            self._session = build_session()
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
        headers: Optional[dict] = None,
        params=None,
        data=None,
        stream: bool = False,
    ):
        """Send one request (with the retries above); network failures become NetworkError.

        The response is returned whatever its status, except a redirect, which is an error.
        """
        import requests

        url = self.url_for(path) if "://" not in path else path
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
        request = requests.Request(
            method.upper(), url, headers=all_headers, params=params, data=data
        )
        try:
            prepared = self.session.prepare_request(request)
        except requests.exceptions.InvalidHeader as exc:
            # requests quotes the offending value, which may be the token itself.
            raise UsageError(
                f"invalid header: {_one_line(scrub(str(exc), token, service_key))}"
            ) from None
        except requests.exceptions.InvalidURL:
            raise UsageError(f"not a valid URL: {_one_line(url)!r}") from None
        response = self._send(prepared, url, stream=stream)
        if 300 <= response.status_code < 400:
            location = scrub(
                response.headers.get("Location", "(no Location header)"), token, service_key
            )
            raise NetworkError(
                f"{method.upper()} {url} answered {response.status_code} redirecting to "
                f"{location}; redirects are not followed"
            )
        return response

    def _send(self, prepared, url: str, *, stream: bool):
        """Send with the adapter's retries; a GET whose answer breaks off mid-body is sent again.

        urllib3 retries what goes wrong up to the response headers. The body is read
        afterwards, outside its reach, so a connection reset or a stall while reading it is
        retried here, for idempotent methods only and on the same backoff schedule.
        """
        import requests

        retries_left = MAX_RETRIES if prepared.method in IDEMPOTENT_METHODS and not stream else 0
        check_ca_bundle()
        # REQUESTS_CA_BUNDLE, HTTPS_PROXY and NO_PROXY apply as requests documents.
        settings = self.session.merge_environment_settings(
            prepared.url, {}, stream, self.session.verify, None
        )
        settings["stream"] = True
        timeout = timeouts()
        attempt = 0
        while True:
            _log_request(prepared)
            response = None
            try:
                response = self.session.send(
                    prepared, timeout=timeout, allow_redirects=False, **settings
                )
                _log_response(response)
                if not stream:
                    response.content  # noqa: B018 - read the body here, inside the retry loop
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
                    raise NetworkError(describe_failure(exc, url)) from None
                response.close()
                output.debug(f"! the answer broke off ({type(exc).__name__}); sending it again")
            retries_left -= 1
            attempt += 1
            time.sleep(0 if attempt == 1 else BACKOFF_FACTOR * 2 ** (attempt - 1))

    # Nexla's own endpoints -------------------------------------------------------------

    def current_user(self, token: str) -> dict:
        """GET /users/current: {"user": …, "org": …} for a token the server accepts."""
        response = self.request("GET", "/users/current", token=token)
        _raise_for_session_status(response)
        body = json_body(response)
        if not isinstance(body, dict):
            raise NetworkError(f"unexpected answer from {response.url}: not a JSON object")
        user = body.get("user") if isinstance(body.get("user"), dict) else body
        return {"user": user, "org": body.get("org")}

    def refresh(self, token: str) -> dict:
        """POST /token/refresh; the old token is dead afterwards."""
        return self._token_response(self.request("POST", "/token/refresh", token=token))

    def mint(self, service_key: str) -> dict:
        """POST /token with the service key."""
        return self._token_response(self.request("POST", "/token", service_key=service_key))

    def logout(self, token: str) -> None:
        _raise_for_session_status(self.request("POST", "/token/logout", token=token))

    def _token_response(self, response) -> dict:
        _raise_for_session_status(response)
        body = json_body(response)
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("access_token"), str)
            or not body["access_token"].strip()
            or not _is_positive_number(body.get("expires_in"))
        ):
            raise NetworkError(
                f"unexpected answer from {response.url}: not a token response "
                "(no access_token or expires_in); nothing was changed"
            )
        return body


def _retries_spent(response) -> int:
    """How many retries urllib3 made before this response arrived."""
    retries = getattr(response.raw, "retries", None)
    return len(getattr(retries, "history", ()) or ())


def _is_positive_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def json_body(response):
    try:
        return response.json()
    except ValueError:
        raise NetworkError(
            f"unexpected answer from {response.url}: HTTP {response.status_code} "
            "with a body that is not JSON"
        ) from None


def _raise_for_session_status(response) -> None:
    """raise_for_status for the session endpoints every Nexla API has.

    Exit 6 is for `nexla api` requests the API refuses; a 404 or 400 from /users/current or
    /token means the API is not where the URL says (or not what it promises): exit 5.
    """
    try:
        raise_for_status(response)
    except ApiRefused as exc:
        raise NetworkError(
            f"unexpected answer from {response.url}: {exc.message}",
            hint="check the environment's API URL (`nexla env show`; `--api-url` at configure)",
        ) from None


def raise_for_status(response) -> None:
    """Map a non-2xx answer to the error (and exit code) the contract gives it."""
    status = response.status_code
    if 200 <= status < 300:
        return
    message = server_message(response)
    if status in (401, 403):
        raise AuthError(message)
    if status == 429:
        raise NetworkError(f"{message} (rate limited; still refused after {MAX_RETRIES} retries)")
    if status >= 500:
        raise NetworkError(message)
    raise ApiRefused(message)


def server_message(response) -> str:
    """The server's `message`, else the status line; one line, never an HTML page."""
    text = ""
    content_type = response.headers.get("Content-Type", "")
    if "json" in content_type or response.content[:1] in (b"{",):
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            # A server may quote the credential it refused ("invalid token tok-…").
            text = scrub(body["message"], _credential_sent(response.request))
    status_line = f"HTTP {response.status_code} {response.reason or ''}".strip()
    if not text:
        return f"{status_line} from {response.request.method} {response.url}"
    return f"{_one_line(text)} ({status_line})"


def scrub(text: str, *secrets: Optional[str]) -> str:
    """text with every given secret replaced by [redacted]."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            # Also as repr() quotes it (escaped line breaks), which is how requests does.
            for form in (secret, repr(secret)[1:-1]):
                text = text.replace(form, "[redacted]")
    return text


def _credential_sent(request) -> Optional[str]:
    value = request.headers.get("Authorization", "") if request is not None else ""
    return value.split(" ", 1)[1] if " " in value else None


def _one_line(text: str, limit: int = 300) -> str:
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_failure(exc: Exception, url: str) -> str:
    """One line for a transport failure; never the exception's internals."""
    import requests

    host = url.split("/")[2] if "://" in url else url
    if isinstance(exc, requests.exceptions.SSLError):
        return (
            f"TLS verification failed for {host}: the certificate is not trusted "
            "(set REQUESTS_CA_BUNDLE for a private CA)"
        )
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
        raise UsageError("invalid header: a header value has characters HTTP does not allow")
    return f"request to {host} failed: {type(exc).__name__}"


_SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie", "set-cookie")


def _redact(name: str, value: str) -> str:
    if name.lower() not in _SECRET_HEADERS:
        return value
    scheme = value.split(" ", 1)[0] if " " in value else ""
    return f"{scheme} [redacted]".strip()


def _log_request(prepared) -> None:
    if not output.DEBUG:
        return
    output.debug(f"> {prepared.method} {prepared.url}")
    for name, value in prepared.headers.items():
        output.debug(f"> {name}: {_redact(name, value)}")


def _log_response(response) -> None:
    if not output.DEBUG:
        return
    output.debug(f"< HTTP {response.status_code} {response.reason or ''}".rstrip())
    credential = _credential_sent(response.request)
    for name, value in response.headers.items():
        output.debug(f"< {name}: {scrub(_redact(name, value), credential)}")


# `nexla api` ---------------------------------------------------------------------------


def resolve_api_url(api_url: str, path: str) -> str:
    """The URL for PATH under the API base URL.

    PATH is relative to the base (leading slash optional). An absolute URL is accepted only
    when it lies under the base (same host and port, https, below the base path), so the
    token never travels anywhere else.
    """
    from urllib.parse import urlsplit

    from nexla_cli import names

    base = api_url.rstrip("/")
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", path):
        return base + "/" + path.lstrip("/")
    outside = UsageError(
        f"{path} is not under the API base URL {base}",
        hint="give a path relative to it, e.g. `nexla api /teams`",
    )
    parts, base_parts = urlsplit(path), urlsplit(base)
    if parts.scheme.lower() != "https" or parts.username or parts.password:
        raise outside
    try:
        host = names.normalize_env_name(parts.netloc)
        base_host = names.normalize_env_name(base_parts.netloc)
    except UsageError:
        raise outside from None
    segments = parts.path.split("/")
    if host != base_host or "." in segments or ".." in segments:
        raise outside
    if parts.path.rstrip("/") != base_parts.path and not parts.path.startswith(
        base_parts.path + "/"
    ):
        raise outside
    rest = parts.path[len(base_parts.path) :]
    return base + rest + (f"?{parts.query}" if parts.query else "")


def collect_pages(fetch_page, per_page: int, what: str) -> Tuple[list, bytes]:
    """Nexla's `page`/`per_page` listing, from page 1 to the first page shorter than per_page.

    `fetch_page(n)` returns page n's 2xx response. Returns the items and one JSON array made
    of the items exactly as the server sent them. A page that is not a JSON array, or the
    same page twice in a row (a server ignoring `page`), is a NetworkError.
    """
    items: list = []
    chunks: list = []
    previous = None
    page = 1
    while True:
        response = fetch_page(page)
        body = json_body(response)
        if not isinstance(body, list):
            raise NetworkError(
                f"page {page} of {what} is not a JSON array, so it cannot be paginated"
            )
        if body and body == previous:
            raise NetworkError(
                f"page {page} of {what} is the same as page {page - 1}: the server ignores "
                "`page`, so the listing cannot be paginated"
            )
        items.extend(body)
        chunks.append(_array_items_as_sent(response.content, body))
        if len(body) < per_page:
            break
        previous = body
        page += 1
    return items, b"[" + b",".join(chunk for chunk in chunks if chunk) + b"]\n"


def _array_items_as_sent(raw: bytes, parsed: list) -> bytes:
    """The bytes between a JSON array's brackets (re-encoded only if it is not plain UTF-8)."""
    import json

    text = raw.strip()
    if text.startswith(b"[") and text.endswith(b"]"):
        inner = text[1:-1].strip()
        try:
            inner.decode("utf-8")
            return inner
        except UnicodeDecodeError:
            pass
    return json.dumps(parsed, ensure_ascii=False)[1:-1].encode("utf-8")
