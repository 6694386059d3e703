"""`nexla api` against hostile input and servers (docs/network.md): paths that climb out of
the API base, a Host header, odd fields, malformed answers, 304, long error lines, endless
listings, a clock before the build date, and bodies that would drive a terminal."""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.support.fake_nexla import Fault


@pytest.fixture
def api(api_by_variable):
    """Here `api` is api_by_variable (tests/conftest.py): any request wrongly sent would
    succeed, so "no request" assertions mean something."""
    return api_by_variable


# ---- paths and headers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/../../x",
        "../x",
        "/teams/../../x",
        "/%2e%2e/x",
        "/%2E%2E/%2e%2e/x",
        "/.%2e/x",
        "%2e%2e/x",
        "/teams/..%2f..%2fx",
        "/teams/%252e%252e/%252e%252e/x",  # encoded twice
        "/teams\\..\\..\\x",
        "https://{host}/nexla-api/%2e%2e/x",
        "https://{host}/nexla-api/teams/%2e%2e/%2e%2e/x",
    ],
)
def test_a_path_resolving_outside_the_api_base_is_refused_unsent(api, path):
    result = api.fails(2, "api", path.format(host=api.server.host))
    assert "is not under the API base URL" in result.stderr
    assert api.server.count() == 0


@pytest.mark.parametrize("path", ["/teams/../teams/1", "/teams/./1"])
def test_dot_segments_that_stay_under_the_base_are_fine(api, path):
    api.ok("api", path)
    assert api.server.last().path == "/nexla-api/teams/1"


@pytest.mark.parametrize("header", ["Host: attacker.example", "host:attacker.example"])
def test_a_host_header_is_refused_unsent(api, header):
    result = api.fails(2, "api", "/teams", "-H", header)
    assert "Host header" in result.stderr
    assert api.server.count() == 0


# ---- fields --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["²", "١٢", "0", "-1", "1e3", "9" * 5000])
def test_a_per_page_that_is_not_a_plain_positive_number_is_exit_2(api, value):
    result = api.fails(2, "api", "/data_sources", "--paginate", "-f", f"per_page={value}")
    assert "per_page must be a positive whole number" in result.stderr
    assert len(result.stderr) < 400
    assert api.server.count() == 0


# ---- malformed answers ------------------------------------------------------------------------


def test_two_different_content_lengths_are_the_servers_fault(api):
    api.server.add_fault("GET", "/teams", Fault.duplicate_content_length(b"[]", 5))
    result = api.fails(5, "api", "/teams")
    assert "malformed headers" in result.stderr
    assert "invalid header" not in result.stderr


def test_304_is_success_without_a_body(api):
    api.server.add_fault("GET", "/teams", Fault.status(304))
    result = api.ok("api", "/teams", "-H", 'If-None-Match: "v1"')
    assert result.stdout == "" and result.stderr == ""
    assert api.server.last().header("If-None-Match") == '"v1"'


def test_an_error_line_is_short_and_never_repeats_query_values(api):
    """Thousands of fields make a URL the server refuses (414); the error line names the
    status and the path, not the query string, which here holds a password."""
    api.server.add_fault("GET", "/teams", Fault.status(414))
    fields = ["-f", "password=hunter2-secret"]
    for n in range(3_000):
        fields += ["-f", f"k{n}=v{n}"]
    result = api.fails(6, "api", "-X", "GET", "/teams", *fields)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[:500]
    assert "414" in lines[0]
    assert len(lines[0]) <= 320, len(lines[0])
    assert "hunter2" not in result.stderr and "v2999" not in result.stderr


def test_a_location_with_control_characters_is_shown_escaped(api):
    location = "https://elsewhere.example/\x1b[2J\x1b]0;owned\x07x"
    api.server.add_fault("GET", "/teams", Fault.redirect(location))
    result = api.fails(5, "api", "/teams")
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "\\x1b[2J\\x1b]0;owned\\x07x" in result.stderr


# ---- --paginate limits -----------------------------------------------------------------------


def test_paginate_stops_after_max_pages_with_exit_5(api):
    api.server.data_source_count = 10**9  # pages never run short
    result = api.fails(
        5, "api", "/data_sources", "--paginate", "--max-pages", "3", "-f", "per_page=2"
    )
    assert "more than 3 pages" in result.stderr and "--max-pages" in result.stderr
    assert api.server.count("GET", "/data_sources") == 3
    # The three pages were written; the listing is left unfinished.
    assert result.stdout == '[{"id": 1}, {"id": 2},{"id": 3}, {"id": 4},{"id": 5}, {"id": 6}'


class _EndlessPages(BaseHTTPRequestHandler):
    """GET /nexla-api/data_sources?page=N&per_page=M: page N of a listing that never ends,
    with Nexla's paging headers, on a connection kept open for the next page."""

    protocol_version = "HTTP/1.1"  # keep-alive: a Content-Length and no "Connection: close"
    timeout = 10  # an idle connection's thread ends after this
    # Headers and body go out in two writes: without this, Nagle's algorithm holds the
    # body back for the client's delayed ACK, 40 ms a page.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        page, per_page = int(query.get("page", 1)), int(query.get("per_page", 10))
        if url.path != "/nexla-api/data_sources" or not self.headers.get("Authorization"):
            self.send_error(404)
            return
        self.server.pages.append(page)
        first = (page - 1) * per_page + 1
        body = json.dumps([{"id": n} for n in range(first, first + per_page)]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Current-Page", str(page))
        self.send_header("X-Total-Page-Count", str(10**9))
        link = f"<{url.path}?page={page + 1}&per_page={per_page}>"
        self.send_header("Link", f'{link}; rel="Next"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def endless_pages(ca):
    """An HTTPS listing that never ends, on loopback, trusted through the same CA.

    The shared fake server closes every connection after its answer, so a thousand pages
    cost a thousand TLS handshakes (most of ten seconds); this one keeps the connection.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EndlessPages)
    server.daemon_threads = True
    server.block_on_close = False
    server.pages = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_paginate_stops_after_1000_pages_by_default(api, endless_pages):
    api_url = f"https://127.0.0.1:{endless_pages.server_address[1]}/nexla-api"
    result = api.fails(
        5,
        "api",
        "/data_sources",
        "--paginate",
        "-f",
        "per_page=1",
        env=api.env_with(NEXLA_API_URL=api_url),
        timeout=600,
    )
    assert "more than 1000 pages" in result.stderr
    assert endless_pages.pages == list(range(1, 1001))
    assert result.stdout.startswith('[{"id": 1},{"id": 2},') and result.stdout.endswith(
        '{"id": 1000}'
    )


def test_a_page_breaking_off_mid_body_is_exit_5(api):
    api.server.add_fault("GET", "/data_sources", Fault.delay(0))
    api.server.add_fault("GET", "/data_sources", Fault.reset())
    result = api.fails(5, "api", "/data_sources", "--paginate")
    assert "broke while reading" in result.stderr
    assert result.stdout.startswith('[{"id": 1}, ') and result.stdout.endswith('{"id": 100}')


def test_a_body_breaking_off_is_exit_5(api):
    api.server.add_fault("GET", "/teams", Fault.reset())
    result = api.fails(5, "api", "/teams")
    assert "broke while reading" in result.stderr
