"""`nexla api`: an authenticated call to the environment's API, like `gh api`."""

import json
import re
from typing import TYPE_CHECKING, Annotated, Any, Dict, List, Mapping, Optional, Sequence, Tuple

import typer

from nexla_cli.auth import apitarget, storedsessions
from nexla_cli.auth.apitarget import ApiTarget
from nexla_cli.cli.commands import api_support
from nexla_cli.cli.commands.common import EnvOption, OrgOption, UserOption
from nexla_cli.core import settings
from nexla_cli.core.errors import AuthError, UsageError
from nexla_cli.core.text import escape_controls
from nexla_cli.deps import Deps
from nexla_cli.http import client

if TYPE_CHECKING:
    import requests

DEFAULT_PER_PAGE = 100
# An error body is streamed like any other; its start is kept for the server's `message`.
ERROR_HEAD_BYTES = 64 * 1024
# On a terminal a JSON body up to this size is pretty-printed (it must be held to parse);
# a larger one is shown as text, streamed.
PRETTY_LIMIT = 8 * 1024 * 1024
# RFC 9110 `token`: what a method or a header name may be made of.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Field values sent as JSON literals rather than strings (numbers in JSON's own grammar,
# so `007` or `1.` stay strings).
_JSON_LITERAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null")


def _max_pages(value: object) -> int:
    # The default arrives as an int; what the user typed, as text.
    if isinstance(value, int):
        return value
    return settings.whole_number(
        "--max-pages", str(value), 1, api_support.MAX_MAX_PAGES, "the default is 1000 pages"
    )


# The options of `nexla api`, named so that the command's signature reads as a list.
PathArgument = Annotated[
    str,
    typer.Argument(
        metavar="PATH",
        help="Path under the API base URL (e.g. /teams), or a full URL under it.",
        show_default=False,
    ),
]
MethodOption = Annotated[
    Optional[str],
    typer.Option(
        "--method",
        "-X",
        metavar="METHOD",
        help="HTTP method (default GET, or POST with -f or --input).",
        show_default=False,
    ),
]
FieldOption = Annotated[
    Optional[List[str]],
    typer.Option(
        "--field",
        "-f",
        metavar="KEY=VALUE",
        help="Add a field to the JSON body (to the query string for GET, HEAD, --input "
        "and --paginate); numbers, true, false and null are typed. Repeatable.",
        show_default=False,
    ),
]
HeaderOption = Annotated[
    Optional[List[str]],
    typer.Option(
        "--header",
        "-H",
        metavar="'NAME: VALUE'",
        help="Add a request header. Repeatable.",
        show_default=False,
    ),
]
InputOption = Annotated[
    Optional[str],
    typer.Option(
        "--input",
        metavar="FILE",
        help="Send the body from FILE ('-' for stdin), as it is.",
        show_default=False,
    ),
]
IncludeOption = Annotated[
    bool,
    typer.Option("--include", "-i", help="Print the status line and headers first."),
]
PaginateOption = Annotated[
    bool,
    typer.Option(
        "--paginate",
        help="Fetch every page (page/per_page, 100 a page) and print one JSON array.",
    ),
]
MaxPagesOption = Annotated[
    int,
    typer.Option(
        "--max-pages",
        metavar="N",
        parser=_max_pages,
        help="With --paginate: stop with an error after N pages (default 1000).",
    ),
]


def api(
    ctx: typer.Context,
    path: PathArgument,
    env: EnvOption = None,
    method: MethodOption = None,
    fields: FieldOption = None,
    headers: HeaderOption = None,
    input_file: InputOption = None,
    include: IncludeOption = False,
    paginate: PaginateOption = False,
    max_pages: MaxPagesOption = api_support.DEFAULT_MAX_PAGES,
    org: OrgOption = None,
    user: UserOption = None,
) -> None:
    """Make an authenticated call to the Nexla API and print the response body.

    PATH is relative to the environment's API base URL. The token is refreshed when due,
    and once more if the API answers 401. -f fields make a JSON body (and the method POST).

    \b
    Examples:
      nexla api /teams
      nexla api -X PUT /teams/1 -f name=Analytics -f active=true
      nexla api /data_sources --paginate | jq length
    """
    run_api(
        ctx.obj,
        path,
        env=env,
        method=method,
        fields=fields or [],
        headers=headers or [],
        input_file=input_file,
        include=include,
        paginate=paginate,
        max_pages=max_pages,
        org=org,
        user=user,
    )


def run_api(
    deps: Deps,
    path: str,
    *,
    env: Optional[str] = None,
    method: Optional[str] = None,
    fields: List[str],
    headers: List[str],
    input_file: Optional[str] = None,
    include: bool = False,
    paginate: bool = False,
    max_pages: int = api_support.DEFAULT_MAX_PAGES,
    org: Optional[str] = None,
    user: Optional[str] = None,
) -> None:
    pairs = [_parse_field(raw) for raw in fields or []]
    extra_headers = _parse_headers(headers or [])
    sends_body = bool(pairs) or input_file is not None
    if paginate:
        _check_paginate(method, include, input_file)
        verb = "GET"
    else:
        verb = _choose_method(method, sends_body)
    body = _read_input(deps, input_file) if input_file is not None else None
    target = apitarget.api_target(deps, env, org=org, user=user)
    url = api_support.resolve_api_url(target.api_url, path)
    caller = _Caller(deps, target)
    out = _Stdout(deps)
    if paginate:
        _print_pages(out, caller, url, pairs, extra_headers, max_pages)
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
        _write_status_and_headers(out, _status_and_headers(response))
    head = _write_body(out, response)
    _raise_for_error(response, target, head)


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


def _parse_headers(raw_headers: List[str]) -> Dict[str, str]:
    parsed: Dict[str, str] = {}
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
        if name.lower() == "host":
            # The token goes only to the API's own host; a Host header would route it on.
            raise UsageError("nexla sets the Host header from the API URL; it cannot be given")
        parsed[name] = value
    return parsed


def _read_input(deps: Deps, source: str) -> bytes:
    if source == "-":
        stdin = deps.streams.stdin
        return stdin.buffer.read() if stdin is not None else b""
    try:
        with open(deps.path(source), "rb") as stream:
            return stream.read()
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

    def __init__(self, deps: Deps, target: ApiTarget) -> None:
        self.target = target
        self.deps = deps
        self.client = deps.client(target.api_url)
        self.renewed = False

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        params: Sequence[Tuple[str, str]],
        data: Optional[bytes],
    ) -> "requests.Response":
        """The response, its body unread: `_write_body` streams it (or `client.read_body`)."""
        response = self._send_once(method, url, headers, params, data)
        if response.status_code == 401 and self.target.renewable and not self.renewed:
            response.close()
            self.renewed = True
            self.target.renew_after_rejection()
            response = self._send_once(method, url, headers, params, data)
        return response

    def _send_once(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        params: Sequence[Tuple[str, str]],
        data: Optional[bytes],
    ) -> "requests.Response":
        token = self.target.token()
        delay = self.deps.timing.spinner_delay
        with self.deps.out.spinner(f"{method} {url}", delay=delay):
            return self.client.request(
                method, url, token=token, stream=True, headers=headers, params=params, data=data
            )


def _print_pages(
    out: "_Stdout",
    caller: _Caller,
    url: str,
    pairs: List[Tuple[str, str]],
    headers: Dict[str, str],
    max_pages: int,
) -> None:
    from urllib.parse import parse_qsl, urlsplit

    bare_url, _, query_text = url.partition("?")
    query = parse_qsl(query_text, keep_blank_values=True) + pairs
    if any(key == "page" for key, _ in query):
        raise UsageError("--paginate sets `page` itself; leave it out")
    per_page_values = [value for key, value in query if key == "per_page"]
    per_page = _positive_int(per_page_values[-1]) if per_page_values else DEFAULT_PER_PAGE
    query = [(key, value) for key, value in query if key != "per_page"]
    query += [("per_page", str(per_page))]

    listing = _ListingWriter(out)

    def fetch(page: int) -> "requests.Response":
        response = caller.send(
            "GET", bare_url, headers=headers, params=[("page", str(page)), *query], data=None
        )
        if not 200 <= response.status_code < 300:
            if listing.started:
                # The listing printed so far stays unfinished (no closing bracket), so no
                # JSON reader takes it for the whole; the error body would only garble it.
                head = client.read_streamed(response, ERROR_HEAD_BYTES)
            else:
                head = _write_body(out, response)
            _raise_for_error(response, caller.target, head)
        return response

    path = urlsplit(bare_url).path
    for items, as_sent in api_support.pages(fetch, per_page, path, max_pages):
        listing.add(items, as_sent)
    listing.finish()


def _positive_int(text: str) -> int:
    # ASCII digits only ("²".isdigit() is true), and few enough to be a page size.
    if not re.fullmatch(r"[0-9]{1,9}", text) or int(text) < 1:
        raise UsageError(f"per_page must be a positive whole number, not {text[:20]!r}")
    return int(text)


def _raise_for_error(response: "requests.Response", target: ApiTarget, head: bytes = b"") -> None:
    status = response.status_code
    if 200 <= status < 300 or status == 304:
        return
    message = client.server_message(response, head)
    if status == 401 and target.from_variable:
        raise AuthError(
            f"the token in {storedsessions.ACCESS_TOKEN_VARIABLE} was refused: {message}",
            hint=f"set a fresh token in {storedsessions.ACCESS_TOKEN_VARIABLE}, or unset it to use "
            "the stored session",
        )
    if status == 401:
        raise AuthError(
            f"the API refused the session token for {target.name} even after renewing it: "
            f"{message}",
            hint=target.refused_hint(),
        )
    if status == 403:
        raise AuthError(message, hint="the signed-in user may not be allowed to do this")
    client.raise_for_status(response, head)


# Output ----------------------------------------------------------------------------------


class _Stdout:
    """The run's stdout as `nexla api` writes to it: bytes as they arrive, or text for a
    terminal (pretty JSON, control characters escaped, colour where it is wanted)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.stream = deps.streams.stdout
        self.is_terminal = deps.streams.stdout_tty

    def write(self, data: bytes) -> None:
        from nexla_cli.ui.output import OutputError, ReaderLeft, unwritable

        stream = self.stream
        if stream is None:
            raise OutputError("cannot write the result: stdout is closed")
        try:
            stream.flush()
            stream.buffer.write(data)
            stream.buffer.flush()
        except BrokenPipeError:
            raise ReaderLeft() from None
        except (OSError, ValueError) as exc:
            raise unwritable(exc) from None

    def write_text(self, text: str) -> None:
        if text:
            encoding = getattr(self.stream, "encoding", None) or "utf-8"
            self.write(text.encode(encoding, errors="replace"))

    def write_json_text(self, text: str) -> None:
        stream = self.stream
        # Colour is only ever wanted on a stdout that is open (Output.use_colour).
        if stream is None or not self.deps.out.use_colour(stdout=True):
            self.write_text(text)
            return
        from rich.console import Console
        from rich.highlighter import JSONHighlighter

        from nexla_cli.ui.output import ReaderLeft, unwritable

        try:
            stream.flush()
            console = Console(file=stream, soft_wrap=True, force_terminal=True)
            console.print(JSONHighlighter()(text), end="")
        except BrokenPipeError:
            raise ReaderLeft() from None
        except (OSError, ValueError) as exc:  # a terminal that went away
            raise unwritable(exc) from None

    def write_pretty(self, data: object) -> None:
        self.write_json_text(_json_text(data) + "\n")


def _write_status_and_headers(out: "_Stdout", head: str) -> None:
    """Piped, the header bytes as the server sent them (http.client read them as Latin-1);
    on a terminal, as text with control characters and bytes that are not UTF-8 escaped, so
    no header can retitle the window or move the cursor."""
    if not out.is_terminal:
        out.write(head.encode("latin-1", errors="replace"))
        return
    lines = head.split("\n")[:-1]
    out.write_text("".join(escape_controls(client.header_text(line)) + "\n" for line in lines))


def _status_and_headers(response: "requests.Response") -> str:
    version = {10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}.get(
        getattr(response.raw, "version", 11), "HTTP/1.1"
    )
    lines = [f"{version} {response.status_code} {response.reason or ''}".rstrip()]
    raw_headers = getattr(response.raw, "headers", None)
    # urllib3's headers keep repeated ones (Set-Cookie…) apart; requests' join them.
    items = raw_headers.items() if raw_headers is not None else response.headers.items()
    lines += [f"{name}: {value}" for name, value in items]
    return "\n".join(lines) + "\n\n"


def _write_body(out: _Stdout, response: "requests.Response") -> bytes:
    """Stream the body to stdout as it arrives; returns its first ERROR_HEAD_BYTES (for an
    error's message).

    Piped, the bytes go through untouched. On a terminal, a JSON body of up to PRETTY_LIMIT
    is pretty-printed; anything else is shown as text with control characters escaped, so
    a body cannot retitle the window, clear the screen or forge lines.
    """
    chunks = client.body_chunks(response)
    if not out.is_terminal:
        kept = bytearray()
        for chunk in chunks:
            if len(kept) < ERROR_HEAD_BYTES:
                kept += chunk[: ERROR_HEAD_BYTES - len(kept)]
            out.write(chunk)
        return bytes(kept)
    buffered = bytearray()
    complete = True
    for chunk in chunks:
        buffered += chunk
        if len(buffered) > PRETTY_LIMIT:
            complete = False
            break
    head = bytes(buffered[:ERROR_HEAD_BYTES])
    if not buffered:
        return head
    if complete:
        try:
            parsed = json.loads(bytes(buffered))
        except (ValueError, RecursionError):
            pass
        else:
            out.write_pretty(parsed)
            return head
    text = _TerminalText()
    out.write_text(text.feed(bytes(buffered)))
    del buffered
    for chunk in chunks:
        out.write_text(text.feed(chunk))
    out.write_text(text.finish())
    return head


class _TerminalText:
    """Bytes to text for a terminal, chunk by chunk: UTF-8 (bad bytes replaced), control
    characters escaped except newlines and tabs (a CRLF counts as a newline), and a final
    newline so the prompt starts on a line of its own."""

    def __init__(self) -> None:
        import codecs

        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending_cr = ""
        self._last = "\n"

    def feed(self, data: bytes, final: bool = False) -> str:
        text = self._pending_cr + self._decoder.decode(data, final)
        self._pending_cr = ""
        if text.endswith("\r") and not final:
            text, self._pending_cr = text[:-1], "\r"
        text = escape_controls(text.replace("\r\n", "\n"), keep="\n\t")
        if text:
            self._last = text[-1]
        return text

    def finish(self) -> str:
        text = self.feed(b"", final=True)
        last = text[-1] if text else self._last
        return text if last == "\n" else text + "\n"


class _ListingWriter:
    """Writes `--paginate`'s one JSON array page by page.

    Piped, the items go out as the server sent them; on a terminal, pretty-printed. The
    opening bracket goes out with the first page, the closing one only when the last page
    has been read: a listing cut short by an error stays visibly unfinished.
    """

    def __init__(self, out: _Stdout) -> None:
        self.out = out
        self.pretty = out.is_terminal
        self.started = False
        self._items_written = False

    def add(self, items: List[Any], as_sent: bytes) -> None:
        if not self.started:
            self.started = True
            self.out.write(b"[\n" if self.pretty and items else b"[")
        if self.pretty:
            if items:
                text = ",\n".join(_indent(_json_text(item)) for item in items)
                self.out.write_json_text(("," + "\n" if self._items_written else "") + text)
                self._items_written = True
        elif as_sent:
            self.out.write((b"," if self._items_written else b"") + as_sent)
            self._items_written = True

    def finish(self) -> None:
        if not self.started:
            self.started = True
            self.out.write(b"[")
        if self.pretty and self._items_written:
            self.out.write(b"\n]\n")
        else:
            self.out.write(b"]\n")


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.split("\n"))


def _json_text(data: object) -> str:
    """Pretty JSON for a terminal. json.dumps escapes C0 controls in strings but not DEL
    or C1 ones; those can only sit inside strings, so their \\u escapes keep it valid JSON."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    # Lone surrogates too: they cannot be written as UTF-8.
    return re.sub("[\x7f-\x9f\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", text)
