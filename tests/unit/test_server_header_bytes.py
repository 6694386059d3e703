"""The unit tier of tests/app/test_server_header_bytes.py, whose docstring says what is promised:
the pure functions behind its promises, called directly: no server, no run of the app."""

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
