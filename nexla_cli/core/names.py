"""Environment names: a Nexla UI host, with a port where needed.

The `token print` fast path checks names with this module: standard library, no typing.

`https://DataOps.Nexla.io/token`, `dataops.nexla.io.` and `dataops.nexla.io:443` all name
`dataops.nexla.io`. Anything that is not a host name (or IP literal) with an optional port
is refused with a usage error before anything is stored or sent.
"""

import ipaddress
import re
from urllib.parse import urlsplit

from nexla_cli.core.errors import UsageError
from nexla_cli.core.text import shown

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_ALLOWED_PATHS = ("", "/", "/token", "/token/")
DEFAULT_PORT = 443


def normalize_env_name(raw: str) -> str:
    text = (raw or "").strip()
    if not text:
        raise UsageError("an environment name is required, e.g. dataops.nexla.io")
    scheme = _SCHEME.match(text)
    if scheme:
        if scheme.group(1).lower() != "https":
            raise UsageError(
                f"{scheme.group(1).lower()}:// is refused: Nexla is reached over https only "
                f"(got {shown(raw)})"
            )
        text = text[scheme.end() :]
    host_port, _, path = text.partition("/")
    if ("/" + path if path else "") not in _ALLOWED_PATHS:
        raise UsageError(f"not an environment name: {shown(raw)} (a host, e.g. dataops.nexla.io)")
    if "@" in host_port:
        raise UsageError(
            f"not a valid host name: {shown(raw)} (no user@ part)", hint="e.g. dataops.nexla.io"
        )
    host, port = _split_port(host_port, raw)
    return host if port in (None, DEFAULT_PORT) else f"{host}:{port}"


def _split_port(host_port: str, raw: str) -> tuple[str, object]:
    invalid = UsageError(
        f"not a valid host name: {shown(raw)}", hint="e.g. dataops.nexla.io or localhost:8443"
    )
    if host_port.startswith("["):
        address, bracket, rest = host_port[1:].partition("]")
        if not bracket:
            raise invalid
        if "%" in address:
            raise invalid  # a zone id names a local interface, never a remote host
        try:
            host = "[" + ipaddress.IPv6Address(address).compressed + "]"
        except ValueError:
            raise invalid from None
        port_text = rest[1:] if rest.startswith(":") else None
        if rest and port_text is None:
            raise invalid
    else:
        host, colon, port_text = host_port.partition(":")
        if not colon:
            port_text = None
        host = _normalize_host(host, invalid)
    if port_text is None:
        return host, None
    if not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
        raise UsageError(f"not a valid port in {shown(raw)}")
    return host, int(port_text)


def _normalize_host(host: str, invalid: UsageError) -> str:
    if not host.isascii():
        host = _to_ascii(host, invalid)
    host = host.lower()
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise invalid
    if _looks_like_ipv4(host):
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise invalid from None
    ascii_host = host
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise invalid
    if labels[-1].isdigit():
        raise invalid  # a numeric top-level label is a mistyped address, not a name
    return ascii_host


def _to_ascii(host: str, invalid: UsageError) -> str:
    """An internationalised name in its ASCII (punycode) form, as browsers and requests use.

    IDNA 2008 with UTS 46 mapping (the `idna` package, as requests uses), so that
    `straße.de` is `xn--strae-oqa.de` as a browser sees it, not IDNA 2003's `strasse.de`.
    Imported here only: an ASCII name, the common case, needs none of it.
    """
    import idna

    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except UnicodeError:  # idna.IDNAError is one
        raise invalid from None


def _looks_like_ipv4(host: str) -> bool:
    return bool(re.fullmatch(r"[0-9.]+", host)) and host.count(".") == 3


def host_of(url: str) -> str:
    """The host (with its port, if any) a URL names, lower-cased and without a user@ part:
    `https://Me@A.io:8443/x` -> `a.io:8443`. For comparing two URLs' hosts and for naming
    one in a message, so it never raises: text urlsplit refuses is cut at its slashes, and
    text without `scheme://` is returned as it is."""
    if "://" not in url:
        return url
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        netloc = url.split("/")[2]
    return netloc.rpartition("@")[2].lower()


def ui_url(name: str) -> str:
    return f"https://{name}"


def token_page_url(name: str) -> str:
    return f"https://{name}/token"


def default_api_url(name: str) -> str:
    return f"https://{name}/nexla-api"


def normalize_api_url(raw: str) -> str:
    """An https base URL for the API, without a trailing slash."""
    text = (raw or "").strip()
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise UsageError(f"not a valid API URL: {shown(raw)} (spaces or control characters)")
    parts = urlsplit(text)
    if parts.scheme.lower() != "https":
        raise UsageError(f"the API URL must start with https:// (got {shown(raw)})")
    if not parts.hostname or parts.username or parts.password or parts.query or parts.fragment:
        raise UsageError(f"not a valid API URL: {shown(raw)}")
    try:
        host = normalize_env_name(parts.netloc)
    except UsageError:
        raise UsageError(f"not a valid API URL: {shown(raw)}") from None
    return f"https://{host}{parts.path.rstrip('/')}"


def path_stays_under(path: str, base_path: str) -> bool:
    """Whether `path`, however a server may resolve it, is `base_path` or below it.

    Percent-encoding is undone (repeatedly: a proxy may decode once more), then dot
    segments are removed, in each of the ways servers differ: backslashes as slashes or
    not, and repeated slashes merged or not. Every reading must stay under the base.
    """
    from urllib.parse import unquote

    for _ in range(4):
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    base_path = base_path.rstrip("/")
    for text in {path, path.replace("\\", "/")}:
        for merge_slashes in (False, True):
            kept: list[str] = []
            for segment in text.split("/")[1:]:
                if segment == "..":
                    if kept:
                        kept.pop()
                elif segment != "." and not (merge_slashes and segment == ""):
                    kept.append(segment)
            resolved = "/" + "/".join(kept)
            if base_path and resolved != base_path and not resolved.startswith(base_path + "/"):
                return False
    return True
