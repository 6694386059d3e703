"""The helpers every module shares, one of each: a URL's host (names.host_of), text quoted
for an error line (text.shown) or cut to one line (text.one_line), an instant in UTC
(timefmt.iso_utc)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.core import names, timefmt
from nexla_cli.core.text import escape_controls, one_line, shown


@pytest.mark.parametrize(
    "url, host",
    [
        ("https://dataops.nexla.io/nexla-api", "dataops.nexla.io"),
        ("https://DataOps.Nexla.IO:8443/x?y=1", "dataops.nexla.io:8443"),
        ("https://me:secret@dataops.nexla.io/x", "dataops.nexla.io"),
        ("https://[::1]:8443/nexla-api", "[::1]:8443"),
        # urlsplit refuses an unclosed bracket: the host is still named, nothing raised.
        ("https://[::1/nexla-api", "[::1"),
        ("not a url", "not a url"),
    ],
)
def test_host_of(url, host):
    assert names.host_of(url) == host


@pytest.mark.parametrize(
    "raw, limit, quoted",
    [
        ("dataops", 80, "'dataops'"),
        ("a\nb\x1b[2J", 80, "'a\\nb\\x1b[2J'"),
        ("csi\x9b nel\x85", 80, "'csi\\x9b nel\\x85'"),
        ("back\\slash", 80, "'back\\\\slash'"),
        ("x" * 50, 10, "'xxxxxxxx…"),
    ],
)
def test_shown(raw, limit, quoted):
    assert shown(raw, limit) == quoted


@given(st.text(), st.integers(min_value=2, max_value=300))
def test_shown_is_one_short_line_without_controls(raw, limit):
    line = shown(raw, limit)
    assert len(line) <= limit
    assert all(ch.isprintable() for ch in line)


@pytest.mark.parametrize(
    "raw, limit, line",
    [
        ("  a\r\n\tb\x7fc  ", 300, "a b c"),
        ("x" * 20, 10, "xxxxxxxxx…"),
        # A server's text: escaped first, so what it sent is shown, not blanked.
        (escape_controls("a\nb"), 300, "a\\nb"),
    ],
)
def test_one_line(raw, limit, line):
    assert one_line(raw, limit) == line


@pytest.mark.parametrize(
    "epoch, instant",
    [
        (0, "1970-01-01T00:00:00Z"),
        (1795903336.9, "2026-11-28T22:02:16Z"),
        (-40_000_000_000, "0702-06-15T00:53:20Z"),
        (253402300799, "9999-12-31T23:59:59Z"),
    ],
)
def test_iso_utc(epoch, instant):
    assert timefmt.iso_utc(epoch) == instant
