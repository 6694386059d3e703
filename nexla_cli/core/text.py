"""Text from outside (a server, a file) made safe to show on a terminal.

A server's text (a name, an error message, a `Location`, a body shown on a terminal) could
otherwise move the cursor, retitle the window, clear the screen or forge a line of output.
Standard library only, and no unicodedata: the output module imports this at start-up.
"""

import re

# C0 controls (newline and tab included: text shown in one line must stay one line), DEL,
# C1 controls (a terminal may act on them, e.g. U+009B as CSI), and lone surrogates, which
# no output encoding can write. Compiled on first use (re caches it), not at import: the
# `token print` fast path imports this module but never needs it.
_UNSAFE = "[\x00-\x1f\x7f-\x9f\ud800-\udfff]"
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str, keep: str = "") -> str:
    """`text` with control characters (C0, DEL, C1) shown as `\\n`, `\\t`, `\\r` or `\\xNN`
    escapes and lone surrogates replaced by U+FFFD, so no server can move the cursor, set a
    window title or forge a line (`error: …`) with what it sends.

    Characters in `keep` (e.g. "\\n\\t" for a multi-line body) are left as they are.
    """

    def escaped(match: "re.Match[str]") -> str:
        char = match.group()
        if char in keep:
            return char
        if "\ud800" <= char <= "\udfff":
            return "\ufffd"
        return _SHORT.get(char) or f"\\x{ord(char):02x}"

    return re.sub(_UNSAFE, escaped, text)


def shown(text: str, limit: int = 80) -> str:
    """Text from outside (an input, a library's message) quoted for an error line: every
    character `repr` would escape escaped (controls, backslashes, quotes), cut to `limit`
    characters so a pasted paragraph stays one short line."""
    quoted = repr(text)
    return quoted if len(quoted) <= limit else quoted[: limit - 1] + "…"


def one_line(text: str, limit: int = 300) -> str:
    """Text for a message, unquoted: every run of C0 controls or DEL made one space, trimmed,
    cut to `limit` characters. Text from a server goes through escape_controls first, so
    that what it sent is shown rather than blanked."""
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
