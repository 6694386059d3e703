"""`nexla api`: requests, fields, bodies, headers, output and exit codes, against the fake API.

Every test runs `nexla` and asserts what the fake server received (method, path, query,
headers, body, and how many times). Bodies piped through a real process's stdout are
tested in tests/app/test_api_hostile.py.
"""

from __future__ import annotations

import json

import pytest

from tests.support.fake_nexla import TEAMS, Fault
from tests.support.inprocess import run_bytes_in_process


def echoed(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# ---- paths and URLs ---------------------------------------------------------------------------


def test_get_prints_the_body_byte_for_byte_when_piped(api):
    result = run_bytes_in_process(api, "api", "/teams")
    assert result.returncode == 0, result.stderr
    assert result.stdout == json.dumps(TEAMS).encode()
    assert result.stderr == b""
    request = api.server.last("GET", "/teams")
    assert request.authorization == f"Bearer {api.token}"
    assert request.header("accept") == "application/vnd.nexla.api.v1+json"
    assert request.header("user-agent").startswith("nexla-cli/")
    assert api.server.count() == 1


def test_unusual_body_bytes_are_passed_through_unchanged(api):
    # Odd spacing, CRLF, non-ASCII UTF-8, a number whose form a re-encoder would change,
    # no final newline: piped output must be exactly these bytes.
    raw = '{"b" :  1.10,\r\n "a": "caf\u00e9 \\u00e9", "big": 1e400}'.encode()
    api.server.add_fault("GET", "/teams", Fault.body(200, raw))
    result = run_bytes_in_process(api, "api", "/teams")
    assert result.returncode == 0, result.stderr
    assert result.stdout == raw


def test_non_json_body_is_passed_through(api):
    api.server.add_fault("GET", "/teams", Fault.body(200, b"plain\x00text", "text/plain"))
    result = run_bytes_in_process(api, "api", "/teams")
    assert (result.returncode, result.stdout) == (0, b"plain\x00text")


def test_leading_slash_is_optional_and_query_in_path_is_kept(api):
    assert echoed(api.run("api", "echo?a=1&b=two")) is not None
    request = api.server.last("GET", "/echo")
    assert request.path == "/nexla-api/echo"
    assert request.query == {"a": "1", "b": "two"}


@pytest.mark.parametrize("url", ["{api}/teams/1", "HTTPS://{host}/nexla-api/teams/1?x=1"])
def test_absolute_url_under_the_base_is_accepted(api, url):
    result = api.ok("api", url.format(api=api.server.api_url, host=api.server.host))
    assert json.loads(result.stdout) == TEAMS[0]
    assert api.server.count("GET", "/teams/1") == 1
    assert api.server.last().authorization == f"Bearer {api.token}"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/nexla-api/teams",  # another host
        "https://{host}/other/teams",  # same host, outside the base path
        "https://{host}/nexla-apifoo/teams",  # a prefix of the base path is not under it
        "https://{host}/nexla-api/../admin",  # dot segments climbing out
        "http://{host}/nexla-api/teams",  # plain http
        "https://user@{host}/nexla-api/teams",  # credentials in the URL
        "https://127.0.0.1:1/nexla-api/teams",  # same address, another port
    ],
)
def test_absolute_url_outside_the_base_is_refused_without_a_request(api_by_variable, url):
    api = api_by_variable
    result = api.fails(2, "api", url.format(host=api.server.host))
    assert "is not under the API base URL" in result.stderr
    assert result.stdout == ""
    assert api.server.count() == 0


# ---- methods, fields, bodies -------------------------------------------------------------------


def test_fields_make_a_typed_json_body_and_a_post(api):
    result = api.run(
        "api",
        "/echo",
        "-f",
        "name=Data Team",
        "-f",
        "count=123",
        "-f",
        "ratio=1.5",
        "-f",
        "neg=-2",
        "-f",
        "sci=2e3",
        "-f",
        "on=true",
        "-f",
        "off=false",
        "-f",
        "none=null",
        "-f",
        "zip=007",
        "-f",
        "dot=1.",
        "-f",
        "word=True",
        "-f",
        "empty=",
        "-f",
        "eq=a=b",
    )
    body = echoed(result)
    assert body["method"] == "POST"
    assert body["json"] == {
        "name": "Data Team",
        "count": 123,
        "ratio": 1.5,
        "neg": -2,
        "sci": 2000.0,
        "on": True,
        "off": False,
        "none": None,
        "zip": "007",
        "dot": "1.",
        "word": "True",
        "empty": "",
        "eq": "a=b",
    }
    assert body["headers"]["content-type"] == "application/json"
    assert body["query"] == {}


def test_numbers_reach_the_server_as_typed(api):
    api.run("api", "/echo", "-f", "price=1.10", "-f", "n=10")
    assert api.server.last("POST", "/echo").body == b'{"price": 1.10, "n": 10}'


def test_a_field_given_twice_keeps_its_last_value(api):
    assert echoed(api.run("api", "/echo", "-f", "a=1", "-f", "a=2"))["json"] == {"a": 2}


def test_put_with_fields(api):
    result = api.ok("api", "-X", "put", "/teams/1", "-f", "name=Analytics", "-f", "active=true")
    assert json.loads(result.stdout)["name"] == "Analytics"
    assert api.server.last("PUT", "/teams/1").json() == {"name": "Analytics", "active": True}
    assert api.server.count("PUT", "/teams/1") == 1
    assert api.server.count() == 1


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_fields_go_to_the_query_string_for_get_and_head(api, method):
    result = api.ok("api", "-X", method, "/echo", "-f", "q=x y", "-f", "n=1")
    request = api.server.last(method, "/echo")
    assert request.query == {"q": "x y", "n": "1"}
    assert request.body == b""
    if method == "HEAD":
        assert result.stdout == ""


def test_delete_without_a_body(api):
    api.ok("api", "-X", "DELETE", "/teams/2")
    request = api.server.last("DELETE", "/teams/2")
    assert request.body == b""
    assert "content-type" not in request.headers


def test_input_file_is_sent_as_is_with_fields_in_the_query(api):
    payload = b'{"name": "From file",\n "nested": {"x": [1, 2]}}\n'
    (api.tmp_path / "body.json").write_bytes(payload)
    body = echoed(api.run("api", "/echo", "--input", "body.json", "-f", "dry_run=true"))
    assert body["method"] == "POST"
    request = api.server.last("POST", "/echo")
    assert request.body == payload
    assert request.query == {"dry_run": "true"}
    assert request.header("content-type") == "application/json"


def test_input_from_stdin_with_method_and_content_type(api):
    payload = "name,id\nä,1\n".encode()
    result = run_bytes_in_process(
        api,
        "api",
        "-X",
        "PATCH",
        "/echo",
        "--input",
        "-",
        "-H",
        "Content-Type: text/csv",
        stdin=payload,
    )
    assert result.returncode == 0, result.stderr
    request = api.server.last("PATCH", "/echo")
    assert request.body == payload
    assert request.header("content-type") == "text/csv"


def test_empty_input_is_an_empty_body(api):
    body = echoed(api.run("api", "/echo", "--input", "-", input=""))
    assert body["method"] == "POST"
    assert api.server.last("POST", "/echo").body == b""


def test_unreadable_input_file_is_a_usage_error(api):
    result = api.fails(2, "api", "/echo", "--input", "missing.json")
    assert "cannot read --input missing.json" in result.stderr
    assert api.server.count() == 0


def test_headers_are_sent(api):
    body = echoed(
        api.run("api", "/echo", "-H", "X-Trace: abc 123", "-H", "x-empty:", "-H", "Accept: text/x")
    )
    assert body["headers"]["x-trace"] == "abc 123"
    assert body["headers"]["x-empty"] == ""
    assert body["headers"]["accept"] == "text/x"  # the caller's Accept wins
    assert body["headers"]["authorization"] == f"Bearer {api.token}"


@pytest.mark.parametrize(
    "header, message",
    [
        ("X-No-Colon secret-value", "must look like 'Name: value'"),
        (": value", "must look like 'Name: value'"),
        ("Bad Name: value", "must look like 'Name: value'"),
        ("Authorization: Bearer other", "Authorization header itself"),
        ("X-Uni: \u2603", "not Latin-1"),
    ],
)
def test_malformed_headers_are_usage_errors(api_by_variable, header, message):
    api = api_by_variable
    result = api.fails(2, "api", "/echo", "-H", header)
    assert message in result.stderr
    assert "secret-value" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # error line and hint
    assert api.server.count() == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["-f", "novalue"], "key=value"),
        (["-f", "=x"], "key=value"),
        (["-X", "GE T"], "not an HTTP method"),
        (["--paginate", "--include"], "--paginate and --include"),
        (["--paginate", "--input", "-"], "--paginate and --input"),
        (["--paginate", "-X", "POST"], "--paginate lists with GET"),
        (["--paginate", "-f", "page=2"], "sets `page` itself"),
        (["--paginate", "-f", "per_page=0"], "per_page must be a positive"),
        (["--paginate", "-f", "per_page=ten"], "per_page must be a positive"),
        ([], "Missing argument"),
    ],
)
def test_usage_errors(api_by_variable, args, message):
    api = api_by_variable
    path = [] if not args else ["/echo"]
    result = api.fails(2, "api", *path, *args, input="")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert api.server.count() == 0


def test_include_prints_status_and_headers_then_the_body(api):
    result = run_bytes_in_process(api, "api", "--include", "/teams/1")
    assert result.returncode == 0, result.stderr
    head, sep, body = result.stdout.partition(b"\n\n")
    assert sep
    lines = head.decode().split("\n")
    assert lines[0] == "HTTP/1.1 200 OK"
    assert "Content-Type: application/json" in lines
    assert f"Content-Length: {len(body)}" in lines
    assert body == json.dumps(TEAMS[0]).encode()


def test_include_on_an_error_shows_the_status(api):
    result = api.fails(6, "api", "-i", "/teams/999")
    head, sep, body = result.stdout.partition("\n\n")
    assert head.startswith("HTTP/1.1 404 Not Found\n") and sep
    assert "Content-Length: 0" in head.splitlines()
    assert body == ""  # Nexla's 404s have no body


# ---- exit codes ---------------------------------------------------------------------------------


def test_an_empty_404_is_exit_6_naming_the_status_line(api):
    # Nexla answers 404 (and 401, 403) with an empty body: docs/api-facts.md
    result = run_bytes_in_process(api, "api", "/teams/999")
    assert result.returncode == 6
    assert result.stdout == b""
    stderr = result.stderr.decode().strip().splitlines()
    assert stderr == [f"error: HTTP 404 Not Found from GET {api.server.api_url}/teams/999"]


def test_a_404_with_a_message_shows_it(api):
    api.server.add_fault("GET", "/teams/999", Fault.status(404, {"message": "Team not found"}))
    result = run_bytes_in_process(api, "api", "/teams/999")
    assert result.returncode == 6
    assert result.stdout == b'{"message": "Team not found"}'
    stderr = result.stderr.decode().strip().splitlines()
    assert stderr == ["error: Team not found (HTTP 404 Not Found)"]


def test_a_validation_failure_is_400_exit_6_with_its_message(api):
    # Nexla answers validation failures with 400 {"message", "error_code"}, not 422.
    result = api.fails(6, "api", "/teams", "-f", "name=")
    message = "The property '#/' did not contain a required property of 'name'"
    assert json.loads(result.stdout)["message"] == message
    assert result.stderr.strip().splitlines() == [f"error: {message} (HTTP 400 Bad Request)"]
    assert api.server.count("POST", "/teams") == 1


def test_error_without_a_message_names_the_status_line(api):
    api.server.add_fault("GET", "/teams", Fault.status(409, "<html>\nconflict\n</html>"))
    result = api.fails(6, "api", "/teams")
    assert result.stdout == "<html>\nconflict\n</html>"
    assert result.stderr.splitlines()[0].startswith("error: HTTP 409 Conflict")
    assert "<html>" not in result.stderr


def test_403_is_exit_4_without_a_refresh(api):
    api.server.add_fault("GET", "/teams", Fault.status(403, {"message": "Forbidden here"}))
    result = api.fails(4, "api", "/teams")
    assert "Forbidden here" in result.stderr
    assert json.loads(result.stdout) == {"message": "Forbidden here"}
    assert api.server.count("GET", "/teams") == 1
    assert api.server.count("POST", "/token/refresh") == 0


def test_get_is_retried_after_a_single_503(api):
    api.server.add_fault("GET", "/teams", Fault.status(503, {"message": "busy"}))
    result = api.ok("api", "/teams")
    assert json.loads(result.stdout) == TEAMS
    assert api.server.count("GET", "/teams") == 2


def test_post_is_retried_after_a_503(api):
    api.server.add_fault("POST", "/teams", Fault.status(503, {"message": "busy"}))
    result = api.ok("api", "/teams", "-f", "name=New")
    assert json.loads(result.stdout)["name"] == "New"
    assert [r.json() for r in api.server.find("POST", "/teams")] == [{"name": "New"}] * 2


def test_post_is_not_sent_again_after_a_500(api):
    api.server.add_fault("POST", "/teams", Fault.status(500, {"message": "boom"}))
    result = api.fails(5, "api", "/teams", "-f", "name=New")
    assert result.stdout == '{"message": "boom"}'
    assert "boom (HTTP 500" in result.stderr
    assert api.server.count("POST", "/teams") == 1


def test_429_still_refused_after_the_retries_is_exit_5(api):
    api.server.add_fault("GET", "/teams", Fault.status(429, {"message": "slow down"}), times=None)
    result = api.fails(5, "api", "/teams")
    assert "slow down" in result.stderr and "rate limited" in result.stderr
    assert api.server.count("GET", "/teams") == 4  # the call and three retries


def test_redirect_is_not_followed_and_names_the_location(api):
    target = api.server.api_url + "/echo"
    api.server.add_fault("GET", "/teams", Fault.redirect(target, 307))
    result = api.fails(5, "api", "/teams")
    assert target in result.stderr and "307" in result.stderr
    assert api.server.count("GET", "/teams") == 1
    assert api.server.count(path="/echo") == 0


@pytest.mark.own_server  # it stops the server
def test_unreachable_server_is_exit_5(api):
    api.server.stop()
    result = api.fails(5, "api", "/teams")
    assert "connection refused" in result.stderr
    assert api.token not in result.stderr


def test_no_environment_is_exit_3(nx):
    result = nx.fails(3, "api", "/teams")
    assert "nexla env configure" in result.stderr
    assert nx.server.count() == 0


def test_unknown_environment_is_exit_3(api):
    result = api.fails(3, "api", "--env", "other.example.com", "/teams")
    assert "unknown environment: other.example.com" in result.stderr


def test_corrupt_store_is_exit_3_naming_the_file(api):
    store = api.config_dir / "credentials.json"
    store.write_text("{not json")
    result = api.fails(3, "api", "/teams")
    assert str(store) in result.stderr
    assert store.read_text() == "{not json"
    assert api.server.count() == 0
