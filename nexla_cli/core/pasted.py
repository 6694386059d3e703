"""What text pasted (or piped) as an access token looks like: tidied and judged, no I/O.

A token is one word of header-safe characters and never holds quotes, so what surrounds
it when copied (spaces, `Bearer ` from an Authorization header, quotes from a shell or a
JSON file) is removed, and what it certainly is not (a URL) is named.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from nexla_cli.core.model import MAX_SECRET_LENGTH, fits_a_header

# What a pasted token was judged to be.
TOKEN = "token"
EMPTY = "empty"
TOO_LONG = "too long"
URL = "url"
STRAY_QUOTE = "stray quote"
NOT_HEADER_SAFE = "not header-safe"

QUOTES = ("'", '"')
_BEARER = re.compile(r"bearer\s+(?=\S)", re.IGNORECASE)


class Pasted(NamedTuple):
    kind: str  # one of the names above
    text: str  # the tidied text (the token itself when kind is TOKEN)


def tidy_token(text: str) -> str:
    """`text` without whitespace around it, a `Bearer ` prefix, or a matched pair of quotes
    around it, removed in any order and nesting until none is left (so tidying twice is
    tidying once)."""
    while True:
        before = text
        text = text.strip()
        if _BEARER.match(text):
            text = _BEARER.sub("", text, count=1)
        if len(text) >= 2 and text[0] == text[-1] and text[0] in QUOTES:
            text = text[1:-1]
        if text == before:
            return text


def judge_pasted_token(text: str) -> Pasted:
    """What the pasted text is, tidied: a token, or why it cannot be one."""
    tidy = tidy_token(text)
    if not tidy:
        return Pasted(EMPTY, tidy)
    if len(tidy) > MAX_SECRET_LENGTH:
        return Pasted(TOO_LONG, tidy)
    if "://" in tidy:
        return Pasted(URL, tidy)
    if tidy[0] in QUOTES or tidy[-1] in QUOTES:
        return Pasted(STRAY_QUOTE, tidy)
    if not fits_a_header(tidy):
        return Pasted(NOT_HEADER_SAFE, tidy)
    return Pasted(TOKEN, tidy)
