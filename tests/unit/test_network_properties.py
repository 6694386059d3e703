"""Property-based tests of the parsers of outside input in the HTTP layer (docs/network.md):
whatever a server sends or a user types ends in a result or a documented error
(NetworkError, UsageError), never another exception."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.cli.commands import api as api_command
from nexla_cli.cli.commands import api_support
from nexla_cli.core import model, names
from nexla_cli.core.errors import NetworkError, UsageError
from nexla_cli.core.text import escape_controls
from nexla_cli.http import client

URL = "https://nexla.example/nexla-api/token/refresh"
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities included
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
token_like = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"[!-~]{1,40}", fullmatch=True),
    st.integers(),
    st.none(),
)
token_answers = st.fixed_dictionaries(
    {"access_token": token_like},
    optional={
        "expires_in": json_values,
        "token_type": json_values,
        "user": json_values,
        "org": json_values,
    },
)


def as_bytes(value) -> bytes:
    return json.dumps(value).encode()


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), json_values.map(as_bytes), token_answers.map(as_bytes)))
@example(b"[" * 100_000)
@example(b'{"access_token": "tok-1", "expires_in": 1e999}')
@example(b'{"access_token": "tok-1", "expires_in": ' + str(2**63).encode() + b"}")
@example(b'{"access_token": "tok-\\ud800"}')
def test_any_token_answer_is_a_session_or_a_network_error(content):
    try:
        body = client.parse_token_response(content, URL)
    except NetworkError:
        return
    session = model.session_from_token_response(body, "refreshed", now=1_700_000_000)
    assert model.fits_a_header(session.access_token)
    assert len(session.access_token) <= client.MAX_SECRET_LENGTH
    assert 1 <= session.lifetime <= model.MAX_LIFETIME_SECONDS
    json.dumps(session.to_dict())  # storable
    assert model.Session.from_dict(json.loads(json.dumps(session.to_dict()))) == session


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), json_values.map(as_bytes)))
@example(b"{" * 50_000)
def test_any_users_current_answer_is_a_user_or_a_network_error(content):
    try:
        who = client.parse_current_user(content, URL)
    except NetworkError:
        return
    assert isinstance(who["user"], dict)
    model.user_summary(who["user"])
    model.org_summary(who["org"])


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_expires_in_gives_a_lifetime_within_a_year(value):
    seconds, estimated = model.lifetime_from_server(value)
    assert 1 <= seconds <= model.MAX_LIFETIME_SECONDS
    plain_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if plain_number and 1 <= value <= model.MAX_LIFETIME_SECONDS:
        assert (seconds, estimated) == (int(value), False)
    if estimated:
        assert seconds == model.ESTIMATED_LIFETIME_SECONDS


fields = st.text(min_size=1, max_size=10).filter(lambda k: "=" not in k)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(fields, st.text(max_size=12)), max_size=6))
def test_fields_make_a_json_object_with_the_last_value_of_each_key(pairs):
    raw = [f"{key}={value}" for key, value in pairs]
    parsed = [api_command._parse_field(item) for item in raw]
    assert parsed == pairs
    obj = json.loads(api_command._json_object(parsed))
    assert obj.keys() == dict(pairs).keys()
    for key, value in dict(pairs).items():
        if isinstance(obj[key], str):
            assert obj[key] == value
        else:  # typed: a JSON number, true, false or null exactly as written
            assert obj[key] == json.loads(value)


@given(st.text(max_size=30))
def test_a_field_is_key_value_or_a_usage_error(raw):
    try:
        key, value = api_command._parse_field(raw)
    except UsageError:
        assert "=" not in raw or raw.startswith("=")
        return
    assert f"{key}={value}" == raw and key


@given(st.text(max_size=20))
@example("²")
@example("9" * 5000)
def test_per_page_is_a_positive_number_or_a_usage_error(text):
    try:
        value = api_command._positive_int(text)
    except UsageError as exc:
        assert len(exc.message) <= 300
        return
    assert 1 <= value <= 999_999_999 and str(value) == text.lstrip("0")


BASE = "https://nexla.example/nexla-api"


@settings(max_examples=400, deadline=None)
# Found by this test: urllib3 turns the backslash into %5C and drops `2\\2/..`, which leaves
# two steps up for a server that reads backslashes as slashes.
@example("a\\../2\\2/../%2e%2e")
@given(
    st.lists(
        st.sampled_from(["..", ".", "%2e%2e", "%2E.", ".%2e", "%252e%252e", "teams", "a\\..", ""])
        | st.text(alphabet="./%2e\\abc", max_size=6),
        max_size=6,
    ).map("/".join)
)
def test_a_path_is_under_the_api_base_or_refused(path):
    from urllib.parse import unquote

    from urllib3.util import parse_url

    try:
        url = api_support.resolve_api_url(BASE, path)
    except UsageError:
        return
    sent = parse_url(url).path or "/"  # as urllib3 sends it (plain dot segments removed)
    assert sent == "/nexla-api" or sent.startswith("/nexla-api/")
    decoded = unquote(unquote(unquote(sent))).replace("\\", "/")
    assert names.path_stays_under(decoded, "/nexla-api")


@given(st.text())
def test_escaped_text_has_no_control_characters(text):
    shown = escape_controls(text)
    assert not CONTROLS.search(shown)
    if not CONTROLS.search(text):
        assert shown == text


@settings(max_examples=100, deadline=None)
@given(body=st.one_of(st.binary(max_size=300), json_values.map(as_bytes)), reason=st.text())
def test_a_server_message_is_one_short_line_without_controls_or_query(body, reason):
    import requests

    # Each status meets every drawn answer: generating the answers is what costs, once.
    for status in (400, 414, 500, 502):
        response = requests.Response()
        response.status_code = status
        response.reason = reason
        response._content = body
        response.url = "https://nexla.example/nexla-api/teams?password=hunter2-secret&x=1"
        response.request = requests.Request("GET", response.url).prepare()
        message = client.server_message(response)
        assert "\n" not in message and not CONTROLS.search(message), status
        assert len(message) <= 400, status
        assert "hunter2" not in message or b"hunter2" in body or "hunter2" in reason, status


@pytest.mark.parametrize("base_path", ["/nexla-api", "/ünï", "/a|b", "/x^y"])
def test_a_path_under_a_base_urllib3_encodes_is_still_under_it(base_path):
    """The check compares the path as urllib3 sends it with the base sent the same way: a
    base whose path holds characters urllib3 percent-encodes still takes every PATH under
    it, and still refuses those that leave it."""
    base = "https://h.example.com" + base_path
    assert api_support.resolve_api_url(base, "/users").endswith(base_path + "/users")
    for leaving in ("/x/../../y", "a\\../x/../%2e%2e", "/..%2f..%2fz"):
        with pytest.raises(UsageError):
            api_support.resolve_api_url(base, leaving)
