"""What pasted text looks like when it is meant to be an access token (docs/signing-in.md,
"Step by step", the paste): a table of cases, and properties of the tidying."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.core.pasted import (
    EMPTY,
    NOT_HEADER_SAFE,
    QUOTES,
    STRAY_QUOTE,
    TOKEN,
    TOO_LONG,
    URL,
    judge_pasted_token,
    tidy_token,
)

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("pasted", "kind", "text"),
    [
        ("abc123", TOKEN, "abc123"),
        (JWT, TOKEN, JWT),
        ("  abc123 \r\n", TOKEN, "abc123"),
        ("Bearer abc123", TOKEN, "abc123"),
        ("bearer \t abc123", TOKEN, "abc123"),
        ("'abc123'", TOKEN, "abc123"),
        ('"abc123"', TOKEN, "abc123"),
        ('" abc123 "', TOKEN, "abc123"),
        ("\"'abc123'\"", TOKEN, "abc123"),
        ('"Bearer abc123"', TOKEN, "abc123"),
        ('Bearer "abc123"', TOKEN, "abc123"),
        ("Bearer", TOKEN, "Bearer"),  # a word alone is not a prefix
        ("https://dataops.nexla.io/token", URL, "https://dataops.nexla.io/token"),
        ("'https://dataops.nexla.io/token'", URL, "https://dataops.nexla.io/token"),
        ("http://localhost:8443/", URL, "http://localhost:8443/"),
        ("ftp://x", URL, "ftp://x"),
        ("Bearer https://x/token", URL, "https://x/token"),
        ("'abc123", STRAY_QUOTE, "'abc123"),
        ('abc123"', STRAY_QUOTE, 'abc123"'),
        ("'abc123\"", STRAY_QUOTE, "'abc123\""),
        ("", EMPTY, ""),
        ("   ", EMPTY, ""),
        ("''", EMPTY, ""),
        ('"  "', EMPTY, ""),
        ("abc 123", NOT_HEADER_SAFE, "abc 123"),
        ("abc\u00e9", NOT_HEADER_SAFE, "abc\u00e9"),
        ("a" * 16385, TOO_LONG, "a" * 16385),
        ("a" * 16384, TOKEN, "a" * 16384),
    ],
)
def test_what_a_pasted_token_looks_like(pasted, kind, text):
    assert judge_pasted_token(pasted) == (kind, text)


# Pieces of what surrounds a copied token, in any order.
PIECES = [*"ab.' \"\t\n:/", "Bearer ", "bearer\t", "://"]
PASTE_LIKE = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


@given(st.one_of(st.text(max_size=40), PASTE_LIKE))
@example("'\"'\"'")
@example("Bearer Bearer 'x'")
@example(" ' x ' ")
def test_tidying_is_idempotent_and_leaves_nothing_around(pasted):
    tidy = tidy_token(pasted)
    assert tidy_token(tidy) == tidy
    assert tidy == tidy.strip()
    assert not (len(tidy) >= 2 and tidy[0] == tidy[-1] and tidy[0] in QUOTES)


@given(st.one_of(st.text(max_size=40), PASTE_LIKE))
def test_a_token_judged_so_is_one_word_with_no_quote_at_either_end(pasted):
    kind, text = judge_pasted_token(pasted)
    if kind == TOKEN:
        assert text and text == text.strip()
        assert text[0] not in QUOTES and text[-1] not in QUOTES
        assert "://" not in text
        assert not any(ch.isspace() for ch in text)
