"""The Python API: a live Nexla token for Python programs, kept alive across processes.

Like main.py, this is a composition root: each call builds the run's `Deps` for a library
run (the process's environment variables and clock, no streams) and goes through the very
code `nexla token print` and `nexla api` run: `renewal.live_token`, `renewal.usable_session`
and `renewal.renew_after_rejection`, single-flight with every other `nexla` process through
the store's lock. A library run never prints, exits, reads stdin, prompts or opens a
browser: a failure is a `NexlaError` (with the `exit_code` and `hint` the CLI would show),
and a warning the CLI would print is a `warnings.warn` of category `NexlaWarning`.

Nothing in the package imports this module but `nexla_cli/__init__.py`, lazily (an import
contract in pyproject.toml), so `nexla token print` and TAB never load it, nor requests.
The public names and their promises are in docs/python.md.
"""

from __future__ import annotations

import math
import os
import threading
import warnings
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import requests
from requests.auth import AuthBase

from nexla_cli.auth import apitarget, renewal, storedsessions
from nexla_cli.core import settings
from nexla_cli.core.errors import ConfigError, UsageError
from nexla_cli.core.runtime import Notices, Streams
from nexla_cli.deps import Deps

if TYPE_CHECKING:
    from nexla_sdk import NexlaClient as SdkClient

# What to install for sdk_client(): the extra that brings Nexla's SDK.
SDK_EXTRA_HINT = "pip install 'nexla-auth-cli[sdk]'"
# NexlaClient arguments sdk_client() sets itself: the API URL, and the token source.
_SDK_ARGUMENTS_SET_HERE = ("service_key", "access_token", "base_url", "http_client")


class NexlaWarning(UserWarning):
    """What the CLI would print as `warning: …` on stderr (a stale token used because the
    server could not be reached, a store that could not be read as it should, …)."""


def _warn(message: str) -> None:
    # stacklevel 3: past this function and the Notices that called it.
    warnings.warn(message, NexlaWarning, stacklevel=3)


def library_deps() -> Deps:
    """A library run's Deps: this process's variables and clock, no streams, warnings as
    `NexlaWarning`s. Built afresh for each call, so a variable changed meanwhile counts."""
    deps = Deps(os.environ, Streams(None, None, None))
    deps.notices = Notices(sink=_warn)
    return deps


def get_token(
    env: str | None = None, *, org: str | int | None = None, min_ttl: float = 0
) -> str:
    """The token `nexla token print [--env ENV] [--org ORG] [--min-ttl MIN_TTL]` would
    print, chosen and renewed by the same rules: ENV, else $NEXLA_ENV, else the current
    environment; the identity of ORG (an org id or name), else $NEXLA_ORG, else the active
    one; refreshed (or re-minted from a saved key) when due or shorter-lived than `min_ttl`
    seconds, once for every process on the machine."""
    return renewal.live_token(
        library_deps(), env, checked_min_ttl(min_ttl), org=checked_org(org)
    )


def checked_org(org: object) -> str | None:
    """`org` as `--org` takes it: an org's name, or its id as text or as a whole number;
    UsageError for anything else (a blank one is refused where the identity is chosen)."""
    if org is None or isinstance(org, str):
        return org
    if isinstance(org, int) and not isinstance(org, bool):
        return str(org)
    raise UsageError(
        f"org must be an org's name or id (text, or a whole number), not {type(org).__name__}",
        hint='org="acme" or org=7',
    )


def checked_min_ttl(min_ttl: object) -> float:
    """`min_ttl` as `--min-ttl` takes it: seconds, from 0 to a year; UsageError otherwise."""
    if (
        isinstance(min_ttl, bool)
        or not isinstance(min_ttl, (int, float))
        or not math.isfinite(min_ttl)
        or not 0 <= min_ttl <= settings.MAX_MIN_TTL
    ):
        raise UsageError(
            f"min_ttl must be a number of seconds from 0 to {settings.MAX_MIN_TTL}, "
            f"not {min_ttl!r}",
            hint="min_ttl=1800 asks for 30 minutes of life",
        )
    return float(min_ttl)


def within_api_base(url: str, api_url: str) -> bool:
    """Whether a request to `url` goes to the API at `api_url`: the same scheme, host and
    port, and a path that stays at or below the base path however a server resolves it.
    Only such a request is given the token."""
    from urllib.parse import urlsplit

    # The check `nexla api` makes of a PATH: dot segments, percent-encoded ones included.
    from nexla_cli.core.names import path_stays_under

    try:
        parts, base = urlsplit(url), urlsplit(api_url.rstrip("/"))
        port, base_port = _port_of(parts.scheme, parts.port), _port_of(base.scheme, base.port)
    except ValueError:
        return False
    if parts.username is not None or parts.password is not None:
        return False
    origin = (parts.scheme.lower(), parts.hostname, port)
    if origin != (base.scheme.lower(), base.hostname, base_port):
        return False
    path, base_path = parts.path or "/", base.path.rstrip("/")
    if path != base_path and not path.startswith(base_path + "/"):
        return False
    return path_stays_under(path, base_path)


def _port_of(scheme: str, port: int | None) -> int | None:
    if port is not None:
        return port
    return {"https": 443, "http": 80}.get(scheme.lower())


class NexlaAuth(AuthBase):
    """requests authentication with a live token of one environment (docs/python.md).

    The environment and its API base URL are chosen when the object is made (ENV, else
    $NEXLA_ENV, else the current environment; $NEXLA_API_URL as `nexla api` takes it). Each
    request under that base is given the session's token, renewed first when due; a 401
    renews it once and sends the request again. Any other request goes out as it is. One
    object may be shared by threads: they wait for one renewal rather than each making one.
    """

    def __init__(self, env: str | None = None, *, org: str | int | None = None) -> None:
        target = apitarget.api_target(library_deps(), env, org=checked_org(org))
        self.env = target.name
        # The identity chosen now (ORG, else $NEXLA_ORG, else the active one) stays this
        # object's, whichever becomes active later.
        self.who = target.who
        self.api_url = target.api_url
        # A token from $NEXLA_ACCESS_TOKEN is used as it is and never renewed, as by the CLI.
        self._fixed = target.token() if target.from_variable else None
        # One renewal at a time in this process: threads that find the session due wait for
        # it and then find the renewed session in the store (other processes: the store's
        # lock, in renewal.py).
        self._lock = threading.Lock()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if request.url is None or not within_api_base(request.url, self.api_url):
            return request
        request.headers["Authorization"] = f"Bearer {self.token()}"
        resent: list[bool] = []  # shared by the copies requests makes for redirects

        def after(response: requests.Response, **send_options: Any) -> requests.Response:
            return self._after_response(response, resent, send_options)

        request.register_hook("response", after)
        return request

    def token(self) -> str:
        """The token this object sends now: the stored one, renewed first when due, as
        `nexla token print` prints it (read from the store each time, so a session another
        process renewed is used at once)."""
        if self._fixed is not None:
            return self._fixed
        assert self.env is not None
        with self._lock:
            deps = library_deps()
            data = storedsessions.load(deps)
            return renewal.usable_session(deps, data, self.env, who=self.who).access_token

    def _renewed_after_rejection(self, rejected: str) -> str:
        """The token after `rejected` was answered 401: renewed once, by one thread and one
        process (renew_after_rejection uses a session another has stored meanwhile)."""
        assert self.env is not None
        with self._lock:
            return renewal.renew_after_rejection(
                library_deps(), self.env, rejected, self.who
            ).access_token

    def _after_response(
        self, response: requests.Response, resent: list[bool], send_options: dict[str, Any]
    ) -> requests.Response:
        request = response.request
        if request.url is None or not within_api_base(request.url, self.api_url):
            # This hook travels with the copies requests makes to follow redirects: an
            # answer from elsewhere (a 401 there above all) is none of the token's business.
            return response
        if response.is_redirect:
            # requests copies this request's headers into the next one and strips the token
            # only on a change of host or scheme: a redirect out of the API base must not
            # carry it either.
            target = urljoin(response.url, response.headers["location"])
            if not within_api_base(target, self.api_url):
                request.headers.pop("Authorization", None)
            return response
        if response.status_code != 401 or self._fixed is not None or resent:
            return response
        resent.append(True)
        sent = str(request.headers.get("Authorization", "")).removeprefix("Bearer ")
        token = self._renewed_after_rejection(sent)
        return _send_again(response, f"Bearer {token}", send_options)


def _send_again(
    response: requests.Response, authorization: str, send_options: dict[str, Any]
) -> requests.Response:
    """The request of a 401 `response`, sent again on the same connection adapter with a
    new Authorization, as requests' own HTTPDigestAuth resends after its challenge."""
    from requests.cookies import extract_cookies_to_jar

    response.content  # noqa: B018 (read to the end, so that the connection can be reused)
    response.close()
    again = response.request.copy()
    again.headers["Authorization"] = authorization
    # Redirects from the answer are followed from the original request: it carries the
    # new token too.
    response.request.headers["Authorization"] = authorization
    cookies = getattr(again, "_cookies", None)
    if cookies is not None:
        extract_cookies_to_jar(cookies, response.request, response.raw)
        again.prepare_cookies(cookies)
    answer: requests.Response = response.connection.send(again, **send_options)
    answer.history.append(response)
    answer.request = again
    return answer


def sdk_client(
    env: str | None = None, *, org: str | int | None = None, **kwargs: Any
) -> SdkClient:
    """Nexla's SDK client (`nexla_sdk.NexlaClient`) for ENV's API, every request of which
    carries a live token (a `NexlaAuth` of ENV and ORG). Other keyword arguments go to
    NexlaClient."""
    try:
        from nexla_sdk import NexlaClient
    except ImportError as exc:
        raise ConfigError(
            f"sdk_client() needs Nexla's SDK (the nexla-sdk package), which is not installed "
            f"({exc})",
            hint=SDK_EXTRA_HINT,
        ) from None
    clashing = sorted(set(_SDK_ARGUMENTS_SET_HERE) & set(kwargs))
    if clashing:
        raise UsageError(
            f"sdk_client() sets {', '.join(clashing)} itself",
            hint="use NexlaAuth with your own client for anything else",
        )
    auth = NexlaAuth(env, org=org)
    first = auth.token()
    return NexlaClient(
        # The SDK wants a token to start with; each request is given the live one instead.
        access_token=first,
        base_url=auth.api_url,
        http_client=_live_token_http_client(auth, f"Bearer {first}"),
        **kwargs,
    )


def _live_token_http_client(auth: NexlaAuth, sdk_authorization: str) -> Any:
    """The SDK's own HTTP client (retries, timeouts, JSON, HttpClientError), its requests
    session authenticated by `auth`. The SDK puts the token it was given at the start in
    every request's headers; that header is dropped, and `auth` gives a request under the
    API base the live token and any other none."""
    from nexla_sdk.http_client import RequestsHttpClient

    class LiveTokenHttpClient(RequestsHttpClient):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.session.auth = auth

        def request(self, method: str, url: str, headers: dict[str, str], **kw: Any) -> Any:
            kept = {
                name: value
                for name, value in (headers or {}).items()
                if not (name.lower() == "authorization" and value == sdk_authorization)
            }
            return super().request(method, url, headers=kept, **kw)

    return LiveTokenHttpClient()
