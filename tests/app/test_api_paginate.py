"""`nexla api --paginate`: Nexla's page/per_page, one request per page, one JSON array."""

from __future__ import annotations

import json
import shlex

import pytest

from tests.support.fake_nexla import Fault
from tests.support.inprocess import run_bytes_in_process


def pages_requested(server) -> list[tuple[str, str]]:
    return [
        (r.query.get("page"), r.query.get("per_page")) for r in server.find("GET", "/data_sources")
    ]


@pytest.mark.parametrize(
    "paging_headers, total, requested_pages",
    [
        (True, 250, ["1", "2", "3"]),  # 100, 100, 50
        (True, 200, ["1", "2"]),  # the headers say page 2 of 2 is the last
        (True, 99, ["1"]),
        (True, 0, ["1"]),
        (False, 250, ["1", "2", "3"]),  # no headers: the short page ends it
        (False, 200, ["1", "2", "3"]),  # 100, 100, 0: a full last page needs the empty one
        (False, 99, ["1"]),
    ],
)
def test_pages_until_the_last(api, paging_headers, total, requested_pages):
    """docs/network.md: the paging headers, else the first short page, end the listing."""
    api.server.paging_headers = paging_headers
    api.server.data_source_count = total
    result = api.ok("api", "/data_sources", "--paginate")
    assert json.loads(result.stdout) == [{"id": i} for i in range(1, total + 1)]
    assert result.stdout.endswith("]\n")
    assert pages_requested(api.server) == [(page, "100") for page in requested_pages]


@pytest.mark.parametrize(
    "args", [["/data_sources", "-f", "per_page=50"], ["/data_sources?per_page=50"]]
)
def test_per_page_from_a_field_or_the_path(api, args):
    result = api.ok("api", *args, "--paginate")
    assert len(json.loads(result.stdout)) == 250
    # 250 rows at 50 a page: page 5 of 5 is the last, as its headers say.
    assert pages_requested(api.server) == [(str(p), "50") for p in range(1, 6)]


def test_other_query_fields_go_with_every_page(api):
    api.ok("api", "/data_sources", "--paginate", "-f", "status=ACTIVE", "-f", "per_page=200")
    queries = [r.query for r in api.server.find("GET", "/data_sources")]
    assert queries == [
        {"page": "1", "status": "ACTIVE", "per_page": "200"},
        {"page": "2", "status": "ACTIVE", "per_page": "200"},
    ]


def test_items_are_printed_as_the_server_sent_them(api):
    page = b'[{"price": 1.10, "name": "caf\xc3\xa9"} ,\n {"n": 1e400}]'
    api.server.add_fault("GET", "/data_sources", Fault.body(200, page))
    proc = run_bytes_in_process(api, "api", "/data_sources", "--paginate", "-f", "per_page=5")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b'[{"price": 1.10, "name": "caf\xc3\xa9"} ,\n {"n": 1e400}]\n'


def test_a_server_ignoring_page_is_exit_5(api):
    api.server.ignore_page = True
    result = api.fails(5, "api", "/data_sources", "--paginate")
    assert "ignores `page`" in result.stderr
    # Page 1 was written as it came; the listing stays unfinished.
    assert result.stdout.startswith('[{"id": 1}, ') and result.stdout.endswith('{"id": 100}')
    assert pages_requested(api.server) == [("1", "100"), ("2", "100")]


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/teams/1", id="one-team"),
        # Nexla's /flows answers an object ({"flows": [...], "data_sources": [...], ...}).
        pytest.param("/flows", id="flows-is-an-object"),
    ],
)
def test_a_page_that_is_not_an_array_is_exit_5(api, path):
    result = api.fails(5, "api", path, "--paginate")
    assert "not a JSON array" in result.stderr
    assert result.stdout == ""
    assert api.server.count("GET", path) == 1


def test_a_page_that_is_not_json_is_exit_5(api):
    api.server.add_fault("GET", "/data_sources", Fault.body(200, "<html>", "text/html"))
    result = api.fails(5, "api", "/data_sources", "--paginate")
    assert "not JSON" in result.stderr


def test_an_error_on_the_first_page_prints_its_body(api):
    api.server.add_fault("GET", "/data_sources", Fault.status(404, {"message": "Gone"}))
    result = api.fails(6, "api", "/data_sources", "--paginate")
    assert result.stdout == '{"message": "Gone"}'
    assert "Gone" in result.stderr


def test_an_error_on_a_later_page_leaves_the_listing_unfinished(api):
    """docs/network.md: pages are written as they come; a listing cut short has no closing
    bracket, so no JSON reader takes it for the whole, and the error body is not mixed in."""
    api.server.add_fault("GET", "/data_sources", Fault.delay(0))
    api.server.add_fault("GET", "/data_sources", Fault.status(404, {"message": "Gone"}))
    result = api.fails(6, "api", "/data_sources", "--paginate")
    assert result.stdout.startswith('[{"id": 1}, ')
    assert '{"id": 100}' in result.stdout and not result.stdout.rstrip().endswith("]")
    assert "Gone" not in result.stdout
    assert "Gone" in result.stderr
    assert api.server.count("GET", "/data_sources") == 2


def test_a_503_on_a_page_is_retried(api):
    api.server.add_fault("GET", "/data_sources", Fault.delay(0))
    api.server.add_fault("GET", "/data_sources", Fault.status(503))
    result = api.ok("api", "/data_sources", "--paginate")
    assert len(json.loads(result.stdout)) == 250
    assert [p for p, _ in pages_requested(api.server)] == ["1", "2", "2", "3"]


def test_the_help_examples_that_paginate_work_with_nexlas_shapes(api):
    # An example must name a list that is a JSON array on Nexla's API (/flows is an object).
    help_text = api.run("api", "--help").stdout
    examples = [
        line.strip()
        for line in help_text.splitlines()
        if line.strip().startswith("nexla api") and "--paginate" in line
    ]
    assert examples, help_text
    for example in examples:
        args = shlex.split(example.split("|")[0])[2:]
        result = api.run("api", *args)
        assert result.returncode == 0, (example, result.stderr)
        assert isinstance(json.loads(result.stdout), list)
