"""Header bytes a server sends that are not UTF-8 (docs/network.md, "Redirects"): a
`Location` holding raw bytes is an unexpected answer like any other redirect, exit 5, with
the bytes shown escaped, for `nexla api` and for every session endpoint."""

from __future__ import annotations

import pytest

from nexla_cli.http import client


@pytest.mark.parametrize(
    "received, shown",
    [
        ("plain", "plain"),
        ("caf\xc3\xa9", "café"),  # UTF-8, as http.client hands it on (read as Latin-1)
        ("\xff\xfe", "\\xff\\xfe"),
        ("a\xc3", "a\\xc3"),  # UTF-8 cut short
        ("\u20ac", "\u20ac"),  # not Latin-1 at all: already text, left as it is
    ],
)
def test_header_text(received, shown):
    assert client.header_text(received) == shown
