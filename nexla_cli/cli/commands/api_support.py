"""What `nexla api` needs beyond the HTTP client: which URLs a PATH may reach, and how
`--paginate` walks Nexla's pages."""

import re
from typing import TYPE_CHECKING, Any, Callable, Iterator, List, Mapping, Optional, Tuple

from nexla_cli.core import names
from nexla_cli.core.errors import NetworkError, UsageError
from nexla_cli.core.text import escape_controls, one_line
from nexla_cli.http import client

if TYPE_CHECKING:
    import requests

# One page of `--paginate` is held in memory to check it; a page beyond this is refused.
MAX_PAGE_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_PAGES = 1000
MAX_MAX_PAGES = 10**9  # as per_page: at most 9 digits


# Where a PATH may go -----------------------------------------------------------------


def resolve_api_url(api_url: str, path: str) -> str:
    """The URL for PATH under the API base URL.

    PATH is relative to the base (leading slash optional). An absolute URL is accepted only
    when it lies under the base (same host and port, https, below the base path). Either
    way the path must still lie under the base path once dot segments, percent-encoded ones
    included, are resolved, as a server (or urllib3, which removes plain ones) would: the
    token never travels anywhere else.
    """
    from urllib.parse import urlsplit

    base = api_url.rstrip("/")
    base_parts = urlsplit(base)
    outside = UsageError(
        f"{one_line(escape_controls(path), limit=200)} is not under the API base URL {base}",
        hint="give a path relative to it, e.g. `nexla api /teams`",
    )
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", path):
        url = base + "/" + path.lstrip("/")
        if not names.path_stays_under(urlsplit(url).path, base_parts.path):
            raise outside
        if not _sent_path_stays_under(url, base_parts.path):
            raise outside
        return url
    try:
        parts = urlsplit(path)
        has_credentials = bool(parts.username or parts.password)
    except ValueError:
        raise outside from None
    if parts.scheme.lower() != "https" or has_credentials:
        raise outside
    try:
        host = names.normalize_env_name(parts.netloc)
        base_host = names.normalize_env_name(base_parts.netloc)
    except UsageError:
        raise outside from None
    if host != base_host or not names.path_stays_under(parts.path, base_parts.path):
        raise outside
    if parts.path.rstrip("/") != base_parts.path and not parts.path.startswith(
        base_parts.path + "/"
    ):
        raise outside
    rest = parts.path[len(base_parts.path) :]
    url = base + rest + (f"?{parts.query}" if parts.query else "")
    if not _sent_path_stays_under(url, base_parts.path):
        raise outside
    return url


def _sent_path_stays_under(url: str, base_path: str) -> bool:
    """The same check on the path as urllib3 will send it: it removes plain dot segments
    itself and percent-encodes what is not allowed (a backslash), so `a\\../x/../%2e%2e`
    becomes `a%5C../%2E%2E`, which a server taking backslashes for slashes reads as two
    steps up."""
    from urllib3.util import parse_url

    sent = parse_url(url).path or "/"
    # The base as urllib3 sends it too (a non-ASCII or `|` in its path is percent-encoded).
    base_sent = (parse_url("https://base.invalid" + base_path).path or "").rstrip("/")
    if sent != base_sent and not sent.startswith(base_sent + "/"):
        return False
    return names.path_stays_under(sent, base_path)




def pages(
    fetch_page: "Callable[[int], requests.Response]",
    per_page: int,
    what: str,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> Iterator[Tuple[List[Any], bytes]]:
    """Nexla's `page`/`per_page` listing, one page at a time, from page 1 to the last.

    `fetch_page(n)` returns page n's 2xx response, unread (streamed). Yields each page's
    items and the bytes between its brackets exactly as the server sent them, so the
    caller can write the listing as it comes and memory holds one page, not the listing.

    The last page is the one the server's paging headers say is last (`X-Current-Page`
    reaching `X-Total-Page-Count`, or a `Link` header without rel="next"), else the first
    page shorter than `per_page`; a full listing costs one request per page. A page that is
    not a JSON array, larger than MAX_PAGE_BYTES, or the same as the one before (a server
    ignoring `page`), and a listing longer than `max_pages`, are NetworkErrors.
    """
    import hashlib
    import json

    previous = None
    page = 1
    while True:
        response = fetch_page(page)
        content = client.read_streamed(response, MAX_PAGE_BYTES)
        items = client.json_body(response)
        if not isinstance(items, list):
            raise NetworkError(
                f"page {page} of {what} is not a JSON array, so it cannot be paginated"
            )
        # A digest rather than the page itself: only one page is ever held.
        digest = hashlib.sha256(json.dumps(items, sort_keys=True).encode()).digest()
        if items and digest == previous:
            raise NetworkError(
                f"page {page} of {what} is the same as page {page - 1}: the server ignores "
                "`page`, so the listing cannot be paginated"
            )
        yield items, _array_items_as_sent(content, items)
        if len(items) < per_page or _is_last_page(response.headers):
            return
        if page >= max_pages:
            raise NetworkError(
                f"{what} has more than {max_pages} pages; stopped there and left the listing "
                "unfinished",
                hint="raise the limit with --max-pages N, or narrow the listing with -f fields",
            )
        previous = digest
        page += 1


def _is_last_page(headers: Mapping[str, str]) -> bool:
    """Whether a page's paging headers say no page follows (False when they say nothing)."""
    from requests.utils import parse_header_links

    current = _header_count(headers.get("X-Current-Page"))
    total = _header_count(headers.get("X-Total-Page-Count"))
    if current is not None and total is not None:
        return current >= total
    link = headers.get("Link")
    if link is None:
        return False
    try:
        links = parse_header_links(link)
    except (ValueError, IndexError):
        return False
    return not any("next" in str(item.get("rel", "")).lower().split() for item in links)


def _header_count(value: Optional[str]) -> Optional[int]:
    value = (value or "").strip()
    return int(value) if re.fullmatch(r"[0-9]{1,12}", value) else None


def _array_items_as_sent(raw: bytes, parsed: List[Any]) -> bytes:
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
    return json.dumps(parsed)[1:-1].encode("ascii")
