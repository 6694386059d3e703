"""`nexla api`: an authenticated call to the environment's API, like `gh api`."""

import json
import re
import sys
from pathlib import Path
from typing import Annotated, List, Optional, Tuple

import typer

from nexla_cli import client, output, session
from nexla_cli.commands.common import EnvOption
from nexla_cli.errors import LOGIN_HINT, AuthError, UsageError

DEFAULT_PER_PAGE = 100
# A spinner appears only for calls slower than this, so quick ones do not flicker.
SPINNER_DELAY_SECONDS = 0.3
# RFC 9110 `token`: what a method or a header name may be made of.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Field values sent as JSON literals rather than strings (numbers in JSON's own grammar,
# so `007` or `1.` stay strings).
_JSON_LITERAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null")


def api(
    path: Annotated[
        str,
        typer.Argument(
            metavar="PATH",
            help="Path under the API base URL (e.g. /teams), or a full URL under it.",
            show_default=False,
        ),
    ],
    env: EnvOption = None,
    method: Annotated[
        Optional[str],
        typer.Option(
            "--method",
            "-X",
            metavar="METHOD",
            help="HTTP method (default GET, or POST with -f or --input).",
            show_default=False,
        ),
    ] = None,
    fields: Annotated[
        Optional[List[str]],
        typer.Option(
            "--field",
            "-f",
            metavar="KEY=VALUE",
            help="Add a field to the JSON body (to the query string for GET, HEAD, --input "
            "and --paginate); numbers, true, false and null are typed. Repeatable.",
            show_default=False,
        ),
    ] = None,
    headers: Annotated[
        Optional[List[str]],
        typer.Option(
            "--header",
            "-H",
            metavar="'NAME: VALUE'",
            help="Add a request header. Repeatable.",
            show_default=False,
        ),
    ] = None,
    input_file: Annotated[
        Optional[str],
        typer.Option(
            "--input",
            metavar="FILE",
            help="Send the body from FILE ('-' for stdin), as it is.",
            show_default=False,
        ),
    ] = None,
    include: Annotated[
        bool,
        typer.Option("--include", "-i", help="Print the status line and headers first."),
    ] = False,
    paginate: Annotated[
        bool,
        typer.Option(
            "--paginate",
            help="Fetch every page (page/per_page, 100 a page) and print one JSON array.",
        ),
    ] = False,
) -> None:
    """Make an authenticated call to the Nexla API and print the response body.

    PATH is relative to the environment's API base URL. The token is refreshed when due,
    and once more if the API answers 401. -f fields make a JSON body (and the method POST).

    \b
    Examples:
      nexla api /teams
      nexla api -X PUT /teams/1 -f name=Analytics -f active=true
      nexla api /flows --paginate | jq length
    """
    pairs = [_parse_field(raw) for raw in fields or []]
    extra_headers = _parse_headers(headers or [])
    sends_body = bool(pairs) or input_file is not None
    if paginate:
        _check_paginate(method, include, input_file)
        verb = "GET"
    else:
        verb = _choose_method(method, sends_body)
    body = _read_input(input_file) if input_file is not None else None
    target = session.api_target(env)
    url = client.resolve_api_url(target.api_url, path)
    caller = _Caller(target)
    if paginate:
        _print_pages(caller, url, pairs, extra_headers)
        return
    query: List[Tuple[str, str]] = []
    if pairs and (verb in ("GET", "HEAD") or body is not None):
        query = pairs
    elif pairs:
        body = _json_object(pairs)
    if body is not None and not any(name.lower() == "content-type" for name in extra_headers):
        extra_headers["Content-Type"] = "application/json"
    response = caller.send(verb, url, headers=extra_headers, params=query, data=body)
    if include:
        _write(_status_and_headers(response).encode("utf-8", errors="replace"))
    _write_body(response)
    _raise_for_error(response, target)


# Parsing ---------------------------------------------------------------------------------


def _choose_method(method: Optional[str], sends_body: bool) -> str:
    if method is None:
        return "POST" if sends_body else "GET"
    if not _TOKEN.fullmatch(method):
        raise UsageError(f"not an HTTP method: {method!r}")
    return method.upper()


def _parse_field(raw: str) -> Tuple[str, str]:
    key, sep, value = raw.partition("=")
    if not sep or not key:
        raise UsageError(f"a field must look like key=value, not {raw!r}")
    return key, value


def _json_object(pairs: List[Tuple[str, str]]) -> bytes:
    """`{"key": value, …}`: numbers, true, false and null as written; the rest as strings.

    Built as text so numbers reach the server exactly as typed. A key given twice keeps
    its last value.
    """
    members = {
        key: (value if _JSON_LITERAL.fullmatch(value) else json.dumps(value))
        for key, value in pairs
    }
    text = ", ".join(f"{json.dumps(key)}: {value}" for key, value in members.items())
    return ("{" + text + "}").encode("utf-8")


def _parse_headers(raw_headers: List[str]) -> dict:
    parsed = {}
    for raw in raw_headers:
        name, sep, value = raw.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not _TOKEN.fullmatch(name):
            # The value is not repeated: it may be a secret.
            shown = f" {name!r}" if name and _TOKEN.fullmatch(name) else ""
            raise UsageError(f"a header must look like 'Name: value' (got a malformed one{shown})")
        if any(ch in value for ch in "\r\n\0"):
            raise UsageError(f"the value of header {name} contains a line break")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise UsageError(f"the value of header {name} is not Latin-1 text") from None
        if name.lower() == "authorization":
            raise UsageError("nexla sends the Authorization header itself; it cannot be given")
        parsed[name] = value
    return parsed


def _read_input(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read --input {source}: {exc.strerror or exc}") from None


def _check_paginate(method: Optional[str], include: bool, input_file: Optional[str]) -> None:
    if include:
        raise UsageError("--paginate and --include cannot be used together")
    if input_file is not None:
        raise UsageError("--paginate and --input cannot be used together")
    if method is not None and method.upper() != "GET":
        raise UsageError("--paginate lists with GET; it cannot be used with -X " + method)


# Calling ---------------------------------------------------------------------------------


class _Caller:
    """Sends the calls of one command; after a 401, renews the token once and retries."""

    def __init__(self, target: session.ApiTarget):
        self.target = target
        self.client = client.NexlaClient(target.api_url)
        self.renewed = False

    def send(self, method: str, url: str, **kwargs):
        response = self._send_once(method, url, **kwargs)
        if response.status_code == 401 and self.target.renewable and not self.renewed:
            self.renewed = True
            self.target.renew_after_rejection()
            response = self._send_once(method, url, **kwargs)
        return response

    def _send_once(self, method: str, url: str, **kwargs):
        token = self.target.token()
        with output.spinner(f"{method} {url}", delay=SPINNER_DELAY_SECONDS):
            return self.client.request(method, url, token=token, **kwargs)


def _print_pages(caller: _Caller, url: str, pairs: List[Tuple[str, str]], headers: dict) -> None:
    from urllib.parse import parse_qsl, urlsplit

    bare_url, _, query_text = url.partition("?")
    query = parse_qsl(query_text, keep_blank_values=True) + pairs
    if any(key == "page" for key, _ in query):
        raise UsageError("--paginate sets `page` itself; leave it out")
    per_page_values = [value for key, value in query if key == "per_page"]
    per_page = _positive_int(per_page_values[-1]) if per_page_values else DEFAULT_PER_PAGE
    query = [(key, value) for key, value in query if key != "per_page"]
    query += [("per_page", str(per_page))]

    def fetch(page: int):
        response = caller.send(
            "GET", bare_url, headers=headers, params=[("page", str(page)), *query], data=None
        )
        if not 200 <= response.status_code < 300:
            _write_body(response)
            _raise_for_error(response, caller.target)
        return response

    items, as_sent = client.collect_pages(fetch, per_page, urlsplit(bare_url).path)
    if _stdout_is_terminal():
        _write_pretty(items)
    else:
        _write(as_sent)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"per_page must be a positive whole number, not {text!r}")
    return int(text)


def _raise_for_error(response, target: session.ApiTarget) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    message = client.server_message(response)
    if status == 401 and target.from_variable:
        raise AuthError(
            f"the token in {session.ACCESS_TOKEN_VARIABLE} was refused: {message}",
            hint=f"set a fresh token in {session.ACCESS_TOKEN_VARIABLE}, or unset it to use "
            "the stored session",
        )
    if status == 401:
        raise AuthError(
            f"the API refused the session token for {target.name} even after renewing it: "
            f"{message}",
            hint=LOGIN_HINT,
        )
    if status == 403:
        raise AuthError(message, hint="the signed-in user may not be allowed to do this")
    client.raise_for_status(response)


# Output ----------------------------------------------------------------------------------


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _write(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _status_and_headers(response) -> str:
    version = {10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}.get(
        getattr(response.raw, "version", 11), "HTTP/1.1"
    )
    lines = [f"{version} {response.status_code} {response.reason or ''}".rstrip()]
    raw_headers = getattr(response.raw, "headers", None)
    # urllib3's headers keep repeated ones (Set-Cookie…) apart; requests' join them.
    items = raw_headers.items() if raw_headers is not None else response.headers.items()
    lines += [f"{name}: {value}" for name, value in items]
    return "\n".join(lines) + "\n\n"


def _write_body(response) -> None:
    """The body as received; on a terminal, JSON pretty-printed and text ended by a newline."""
    content = response.content
    if not content:
        return
    if not _stdout_is_terminal():
        _write(content)
        return
    try:
        parsed = json.loads(content)
    except ValueError:
        _write(content if content.endswith(b"\n") else content + b"\n")
        return
    _write_pretty(parsed)


def _write_pretty(data: object) -> None:
    if not output.use_colour(sys.stdout):
        _write((json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
        return
    from rich.console import Console

    Console(soft_wrap=True).print_json(data=data, indent=2)
