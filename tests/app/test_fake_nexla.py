"""Tests of the fake Nexla server itself, over real TLS with `requests`.

If these fail, CLI test failures mean nothing: they check that the fake behaves like the API
facts in docs/api-facts.md and that every fault does what its name says.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

# The project bans module-level `requests` imports for CLI start-up speed; tests are exempt.
import requests  # noqa: TID253

from tests.support.fake_nexla import (
    ADMIN_USER,
    DEFAULT_ORG,
    DEFAULT_USER,
    MEMBERSHIP_API_KEY_PREFIX,
    TEAMS,
    FakeNexla,
    Fault,
    RequestRecord,
    _paginate,
)


@pytest.fixture
def server(nexla_server: FakeNexla) -> FakeNexla:
    return nexla_server


@pytest.fixture
def http(server: FakeNexla):
    """A session that trusts the fake's CA and ignores any proxy settings of the machine."""
    with requests.Session() as session:
        session.verify = server.ca_bundle
        session.trust_env = False
        yield session


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---- sessions -------------------------------------------------------------------------------
# Each fact names where it is known from: the Rails code of Nexla's API server (views and
# controllers under app/, as published in the history of nexla/admin-api-python), nexla-sdk,
# or Nexla's docs. docs/api-facts.md has the same facts as a table.


def test_users_current_answers_user_membership_and_org(server, http):
    # Nexla API server, app/views/api/v1/users/current.json.jbuilder and users/_show
    token = server.issue_token()
    r = http.get(f"{server.api_url}/users/current", headers=bearer(token), timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert list(body) == ["user", "org_membership", "org"]
    user = body["user"]
    assert {k: user[k] for k in ("id", "email", "full_name")} == DEFAULT_USER
    assert user["impersonated"] is False and "impersonator" not in user
    assert user["default_org"] == DEFAULT_ORG
    assert user["org_memberships"][0]["id"] == DEFAULT_ORG["id"]
    assert {"status", "account_locked", "user_tier", "created_at"} <= set(user)
    assert body["org_membership"]["status"] == "ACTIVE"
    assert "api_key" not in body["org_membership"]  # only POST /token shows the key
    assert {k: body["org"][k] for k in ("id", "name")} == DEFAULT_ORG


def test_users_current_with_null_org(server, http):
    # Nexla API server, app/views/api/v1/users/current.json.jbuilder: no org -> "org": null
    token = server.issue_token(org=None)
    body = http.get(f"{server.api_url}/users/current", headers=bearer(token), timeout=5).json()
    assert body["org"] is None and "org_membership" not in body
    assert body["user"]["default_org"] is None and body["user"]["org_memberships"] == []


def test_users_current_says_who_impersonates(server, http):
    # Nexla API server, app/views/api/v1/users/_show and users/_impersonator; nexla-sdk User
    token = server.issue_token(impersonator=ADMIN_USER)
    user = http.get(f"{server.api_url}/users/current", headers=bearer(token), timeout=5).json()[
        "user"
    ]
    assert user["impersonated"] is True
    assert user["impersonator"]["email"] == ADMIN_USER["email"]
    assert user["impersonator"]["full_name"] == ADMIN_USER["full_name"]
    assert set(user["impersonator"]) == {"id", "email", "full_name", "email_verified_at", "org"}
    assert user["email"] == DEFAULT_USER["email"]  # the user acted as, not the admin


@pytest.mark.parametrize("headers", [{}, bearer("tok-nonsense"), {"Authorization": "Basic x"}])
def test_users_current_rejects_with_empty_401(server, http, headers):
    # Nexla API server, app/controllers/api/v1/api_controller.rb: unauthorized! renders no body
    r = http.get(f"{server.api_url}/users/current", headers=headers, timeout=5)
    assert r.status_code == 401
    assert r.headers["Content-Length"] == "0"
    assert r.content == b"" and "Content-Type" not in r.headers


def test_a_header_that_is_not_two_words_is_400(server, http):
    # Nexla API server, api_controller.rb authenticate: "Invalid header format"
    r = http.get(f"{server.api_url}/users/current", headers={"Authorization": "Bearer"}, timeout=5)
    assert r.status_code == 400
    assert r.json() == {"message": "Invalid header format", "error_code": None}


def test_expired_token_is_rejected(server, http):
    # Nexla API server, api_controller.rb authenticate: as any unknown token, an empty 401
    token = server.issue_token(lifetime=-1)
    assert not server.is_valid(token)
    r = http.get(f"{server.api_url}/users/current", headers=bearer(token), timeout=5)
    assert r.status_code == 401 and r.content == b""


def test_jwt_tokens_carry_their_expiry(server, http):
    # Nexla's OpenAPI calls the session token a JWT (unverified); the fake can issue either
    token = server.issue_token(lifetime=1800, jwt=True)
    header, claims, signature = token.split(".")
    padded = claims + "=" * (-len(claims) % 4)
    exp = json.loads(base64.urlsafe_b64decode(padded))["exp"]
    assert abs(exp - (time.time() + 1800)) < 5
    assert (
        http.get(f"{server.api_url}/users/current", headers=bearer(token), timeout=5).status_code
        == 200
    )


def test_refresh_issues_new_token_and_kills_old(server, http):
    # Nexla docs (POST /token/refresh); Nexla API server, token_controller.rb renders
    # "show_token" for a refresh as for a mint. The old token's fate is not published.
    server.default_lifetime = 120
    old = server.issue_token()
    r = http.post(f"{server.api_url}/token/refresh", headers=bearer(old), timeout=5)
    assert r.status_code == 200
    body = r.json()
    assert list(body) == [
        "access_token", "token_type", "expires_in", "user", "org_membership", "org"
    ]  # fmt: skip
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 120
    assert body["user"]["email"] == DEFAULT_USER["email"] and body["org"]["id"] == DEFAULT_ORG["id"]
    assert body["org_membership"]["api_key"].startswith(MEMBERSHIP_API_KEY_PREFIX)
    new = body["access_token"]
    assert new != old and server.issued[-1] == new
    assert server.is_valid(new) and not server.is_valid(old)
    # The refresh was sent with an empty body, as the CLI must.
    assert server.last("POST", "/token/refresh").header("Content-Length") == "0"

    again = http.post(f"{server.api_url}/token/refresh", headers=bearer(old), timeout=5)
    assert again.status_code == 401 and again.content == b""


def test_refresh_keeps_the_impersonation(server, http):
    # Nexla API server, token/show_token renders users/_show for the same user
    old = server.issue_token(impersonator=ADMIN_USER)
    body = http.post(f"{server.api_url}/token/refresh", headers=bearer(old), timeout=5).json()
    assert body["user"]["impersonated"] is True
    assert body["user"]["impersonator"]["email"] == ADMIN_USER["email"]


def test_service_key_mints_a_token(server, http):
    # Nexla API server, app/views/api/v1/token/show_token.json.jbuilder; nexla-sdk auth.py
    # (Basic <key> as given, Content-Length: 0)
    server.add_service_key("svc-key-123", user={"id": 9, "email": "b@x.io", "full_name": "B"})
    r = http.post(
        f"{server.api_url}/token",
        headers={"Authorization": "Basic svc-key-123", "Content-Length": "0"},
        timeout=5,
    )
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["user"]["id"] == 9 and body["user"]["impersonated"] is False
    assert body["org_membership"]["api_key"] == f"{MEMBERSHIP_API_KEY_PREFIX}{DEFAULT_ORG['id']}"
    assert server.token_info(body["access_token"]).source == "service_key"
    assert "refresh_token" not in body


def test_service_key_without_an_org(server, http):
    # Nexla API server, token/show_token: no org -> "org": null and no org_membership
    server.add_service_key("svc-no-org", org=None)
    body = http.post(
        f"{server.api_url}/token", headers={"Authorization": "Basic svc-no-org"}, timeout=5
    ).json()
    assert body["org"] is None and "org_membership" not in body


def test_unknown_service_key_is_an_empty_401(server, http):
    # Nexla API server, token_controller.rb: a refused key raises 401 with no message
    r = http.post(f"{server.api_url}/token", headers={"Authorization": "Basic nope"}, timeout=5)
    assert r.status_code == 401 and r.content == b""


@pytest.mark.parametrize("path", ["/token", "/token/refresh"])
def test_token_endpoints_refuse_a_malformed_header_with_400(server, http, path):
    # Nexla API server, token_controller.rb create: "Invalid header format"
    for headers in ({}, {"Authorization": "Basic"}):
        r = http.post(f"{server.api_url}{path}", headers=headers, timeout=5)
        assert r.status_code == 400
        assert r.json()["message"] == "Invalid header format"


def test_logout_is_200_with_an_empty_body(server, http):
    # Nexla API server, token_controller.rb invalidate: head :ok; it does not authenticate
    # first, so a token that is already dead is 200 too
    token = server.issue_token()
    r = http.post(f"{server.api_url}/token/logout", headers=bearer(token), timeout=5)
    assert (r.status_code, r.content) == (200, b"")
    assert not server.is_valid(token)
    r = http.post(f"{server.api_url}/token/logout", headers=bearer(token), timeout=5)
    assert (r.status_code, r.content) == (200, b"")
    bad = http.post(f"{server.api_url}/token/logout", headers={"Authorization": "x"}, timeout=5)
    assert bad.status_code == 400 and bad.json()["message"] == "Invalid header format"


def test_token_endpoints_route_only_post(server, http):
    # Nexla API server, api_controller.rb raise_no_route!: an empty 404
    r = http.get(f"{server.api_url}/token", headers={"Authorization": "Basic x"}, timeout=5)
    assert (r.status_code, r.content) == (404, b"")


# ---- resource endpoints ---------------------------------------------------------------------


def test_teams(server, http):
    # Nexla API server, app/controllers/api/v1/teams_controller.rb and teams/ views
    h = bearer(server.issue_token())
    assert http.get(f"{server.api_url}/teams", headers=h, timeout=5).json() == TEAMS
    assert http.get(f"{server.api_url}/teams/1", headers=h, timeout=5).json()["id"] == 1

    created = http.post(f"{server.api_url}/teams", headers=h, json={"name": "New"}, timeout=5)
    assert created.status_code == 200  # rendered with "show", not 201
    assert created.json() == {"id": 4, "name": "New", "description": None}
    assert http.get(f"{server.api_url}/teams/4", headers=h, timeout=5).json()["name"] == "New"

    put = http.put(f"{server.api_url}/teams/1", headers=h, json={"name": "Renamed"}, timeout=5)
    assert put.status_code == 200 and put.json()["name"] == "Renamed"

    deleted = http.delete(f"{server.api_url}/teams/2", headers=h, timeout=5)
    assert (deleted.status_code, deleted.content) == (200, b"")


def test_not_found_is_an_empty_404(server, http):
    # Nexla API server, api_controller.rb handle_exceptions: RecordNotFound -> head :not_found
    h = bearer(server.issue_token())
    for path in ("/teams/999", "/nothing/here"):
        r = http.get(f"{server.api_url}{path}", headers=h, timeout=5)
        assert (r.status_code, r.content) == (404, b"")


def test_validation_failures_are_400_with_a_message(server, http):
    # Nexla API server, api_controller.rb validate_body_json: 400 with the schema's message
    h = bearer(server.issue_token())
    invalid = http.post(f"{server.api_url}/teams", headers=h, json={}, timeout=5)
    assert invalid.status_code == 400
    assert invalid.json() == {
        "message": "The property '#/' did not contain a required property of 'name'",
        "error_code": None,
    }
    garbled = http.post(f"{server.api_url}/teams", headers=h, data=b"{nope", timeout=5)
    assert garbled.status_code == 400
    assert garbled.json()["message"] == "Cannot parse JSON request body"


def test_resources_need_a_token(server, http):
    # Nexla API server, api_controller.rb: authenticate runs before every resource endpoint
    r = http.get(f"{server.api_url}/teams", timeout=5)
    assert r.status_code == 401 and r.content == b""


def list_page(server, http, path, **params):
    r = http.get(
        f"{server.api_url}{path}",
        params=params,
        headers=bearer(server.issue_token()),
        timeout=5,
    )
    return r


def test_a_list_without_paging_parameters_is_every_row(server, http):
    # Nexla API server, api_controller.rb preflight: per_page = PAGINATE_ALL_COUNT
    r = list_page(server, http, "/data_sources")
    assert r.json() == [{"id": i} for i in range(1, 251)]
    assert r.headers["X-Total-Count"] == "250"
    assert "X-Current-Page" not in r.headers and "Link" not in r.headers


def test_page_alone_is_ten_a_page(server, http):
    # Nexla API server, api_controller.rb preflight: @per_page = 10 if only page is given
    r = list_page(server, http, "/data_sources", page=2)
    assert r.json() == [{"id": i} for i in range(11, 21)]
    assert r.headers["X-Current-Page"] == "2"
    assert r.headers["X-Total-Page-Count"] == "25"


def test_paging_headers(server, http):
    # Nexla API server, api_controller.rb set_link_header
    r = list_page(server, http, "/data_sources", page=2, per_page=100)
    assert r.json() == [{"id": i} for i in range(101, 201)]
    assert r.headers["X-Total-Count"] == "250"
    assert r.headers["X-Current-Page"] == "2"
    assert r.headers["X-Page-Count"] == "100"
    assert r.headers["X-Total-Page-Count"] == "3"
    base = f"{server.ui_url}/nexla-api/data_sources?"
    assert r.headers["Link"] == (
        f'<{base}page=1&per_page=100>; rel="Previous", <{base}page=3&per_page=100>; rel="Next"'
    )
    first = list_page(server, http, "/data_sources", page=1, per_page=100, status="ACTIVE")
    # The server cuts page and per_page out of the URL by pattern, leaving "?&": harmless.
    assert first.headers["Link"] == (
        f'<{server.ui_url}/nexla-api/data_sources?&status=ACTIVE&page=2&per_page=100>; rel="Next"'
    )
    last = list_page(server, http, "/data_sources", page=3, per_page=100)
    assert len(last.json()) == 50 and 'rel="Next"' not in last.headers["Link"]


def test_a_page_past_the_end_is_an_empty_array(server, http):
    # Nexla API server, will_paginate via api_controller.rb: 200 with []
    r = list_page(server, http, "/data_sources", page=4, per_page=100)
    assert (r.status_code, r.json()) == (200, [])
    server.data_source_count = 200
    full = list_page(server, http, "/data_sources", page=2, per_page=100)
    assert len(full.json()) == 100 and "Next" not in full.headers.get("Link", "")
    assert list_page(server, http, "/data_sources", page=3, per_page=100).json() == []


def test_per_page_above_an_endpoints_maximum_is_400(server, http):
    # Nexla API server, app/controllers/concerns/paginate_concern.rb (data_sources_controller
    # declares 1000 for index_all, flow_triggers_controller 100)
    server.per_page_max = 100
    refused = list_page(server, http, "/data_sources", page=1, per_page=101)
    assert refused.status_code == 400
    assert refused.json()["message"] == (
        "per_page is greater than maximum 100 allowed for that endpoint"
    )
    assert len(list_page(server, http, "/data_sources", page=1, per_page=100).json()) == 100
    # Without paging parameters the maximum is applied, and the answer is paged.
    unasked = list_page(server, http, "/data_sources")
    assert len(unasked.json()) == 100 and unasked.headers["X-Total-Page-Count"] == "3"
    # The server's Link then lacks its "?" (it appends "&page=" to the bare path).
    assert unasked.headers["Link"].endswith('/data_sources&page=2&per_page=100>; rel="Next"')
    req = RequestRecord("GET", "/nexla-api/x", {"per_page": "1001"}, {}, b"", 0)
    assert _paginate(req, [], server.ui_url, max_per_page=1000).status == 400


def test_flows_is_an_object_not_an_array(server, http):
    # Nexla API server, app/views/api/v1/flows/_show.json.jbuilder and flows_controller.rb
    r = list_page(server, http, "/flows")
    body = r.json()
    assert isinstance(body, dict)
    assert {"flows", "data_sources", "data_sets", "data_sinks", "triggered_flows"} <= set(body)
    assert [flow["id"] for flow in body["flows"]] == [1, 2, 3]
    # /flows is always paged, every flow on page 1 unless per_page says otherwise.
    assert r.headers["X-Current-Page"] == "1" and r.headers["X-Total-Page-Count"] == "1"
    paged = list_page(server, http, "/flows", page=2, per_page=2).json()
    assert [flow["id"] for flow in paged["flows"]] == [3]


def test_a_server_ignoring_page(server, http):
    # Not Nexla's behaviour: a broken server, for tests of clients that must notice it
    server.ignore_page = True
    assert list_page(server, http, "/data_sources", page=2, per_page=10).json() == [
        {"id": i} for i in range(1, 11)
    ]


def test_echo_shows_what_was_sent(server, http):
    token = server.issue_token()
    r = http.patch(
        f"{server.api_url}/echo?a=1&b=",
        headers={**bearer(token), "X-Custom": "yes"},
        data=b'{"k": "v"}',
        timeout=5,
    )
    body = r.json()
    assert body["method"] == "PATCH"
    assert body["query"] == {"a": "1", "b": ""}
    assert body["headers"]["authorization"] == f"Bearer {token}"
    assert body["headers"]["x-custom"] == "yes"
    assert body["json"] == {"k": "v"}


def test_chunked_request_body_is_read(server, http):
    r = http.post(
        f"{server.api_url}/echo",
        headers=bearer(server.issue_token()),
        data=iter([b"hello ", b"world"]),  # a generator body goes out chunked
        timeout=5,
    )
    assert r.json()["body"] == "hello world"


def test_head_has_no_body(server, http):
    # HEAD is answered like GET without the body (the fake's simplification)
    r = http.head(f"{server.api_url}/teams", headers=bearer(server.issue_token()), timeout=5)
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["Content-Length"]) > 0


# ---- request log ----------------------------------------------------------------------------


def test_request_log_and_counting(server, http):
    token = server.issue_token()
    http.get(f"{server.api_url}/users/current?x=1", headers=bearer(token), timeout=5)
    http.get(f"{server.api_url}/users/current", headers=bearer(token), timeout=5)
    http.post(f"{server.api_url}/token/refresh", headers=bearer(token), timeout=5)

    assert server.count() == 3
    assert server.count("GET", "/users/current") == 2
    assert server.count("get", "/nexla-api/users/current") == 2
    assert server.count("POST", "/token/refresh") == 1
    assert server.count(path="/teams") == 0
    first = server.requests[0]
    assert (first.method, first.path, first.api_path) == (
        "GET",
        "/nexla-api/users/current",
        "/users/current",
    )
    assert first.query == {"x": "1"}
    assert first.header("AUTHORIZATION") == f"Bearer {token}"
    assert first.body == b""

    server.clear_log()
    assert server.count() == 0
    assert server.errors == []


# ---- faults ---------------------------------------------------------------------------------


def test_status_fault_is_consumed_once_and_logged(server, http):
    server.add_fault(
        "GET",
        "/users/current",
        Fault.status(503, "<html>down</html>", {"Retry-After": "2"}, "text/html"),
    )
    h = bearer(server.issue_token())
    first = http.get(f"{server.api_url}/users/current", headers=h, timeout=5)
    assert first.status_code == 503
    assert first.headers["Retry-After"] == "2"
    assert first.headers["Content-Type"] == "text/html"
    assert first.text == "<html>down</html>"
    assert http.get(f"{server.api_url}/users/current", headers=h, timeout=5).status_code == 200
    assert server.count("GET", "/users/current") == 2


def test_fault_times_and_forever(server, http):
    server.add_fault("POST", "/token/refresh", Fault.status(429), times=2)
    server.add_fault(None, "/teams", Fault.status(500), times=None)
    h = bearer(server.issue_token())
    codes = [
        http.post(f"{server.api_url}/token/refresh", headers=h, timeout=5).status_code
        for _ in range(3)
    ]
    assert codes == [429, 429, 200]
    h = bearer(server.issue_token())  # the successful refresh killed the previous token
    assert {
        http.get(f"{server.api_url}/teams", headers=h, timeout=5).status_code for _ in range(3)
    } == {500}
    server.clear_faults()
    assert http.get(f"{server.api_url}/teams", headers=h, timeout=5).status_code == 200


def test_body_fault_sends_raw_bytes(server, http):
    server.add_fault("POST", "/token/refresh", Fault.body(200, b'{"token_type": "Bearer"}'))
    r = http.post(
        f"{server.api_url}/token/refresh", headers=bearer(server.issue_token()), timeout=5
    )
    assert r.status_code == 200 and "access_token" not in r.json()


def test_hang_fault_times_out_the_client(server, http):
    server.add_fault("GET", "/users/current", Fault.hang(5))
    start = time.monotonic()
    with pytest.raises(requests.Timeout):
        http.get(f"{server.api_url}/users/current", timeout=(2, 0.3))
    assert time.monotonic() - start < 2
    assert server.count("GET", "/users/current") == 1


def test_reset_fault_breaks_the_response(server, http):
    server.add_fault("POST", "/token/refresh", Fault.reset())
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        http.post(f"{server.api_url}/token/refresh", timeout=5)


def test_redirect_fault(server, http):
    server.add_fault("GET", "/teams", Fault.redirect("http://evil.example/steal"))
    r = http.get(f"{server.api_url}/teams", allow_redirects=False, timeout=5)
    assert r.status_code == 302
    assert r.headers["Location"] == "http://evil.example/steal"


def test_delay_fault_then_normal_answer(server, http):
    server.add_fault("GET", "/users/current", Fault.delay(0.3))
    start = time.monotonic()
    r = http.get(f"{server.api_url}/users/current", headers=bearer(server.issue_token()), timeout=5)
    assert r.status_code == 200 and time.monotonic() - start >= 0.3


def test_set_delay_applies_to_every_request_concurrently(server, http):
    server.set_delay("POST", "/token/refresh", 0.5)
    tokens = [server.issue_token() for _ in range(4)]
    results: list[int] = []

    def refresh(token: str) -> None:
        with requests.Session() as s:
            s.verify, s.trust_env = server.ca_bundle, False
            results.append(
                s.post(
                    f"{server.api_url}/token/refresh", headers=bearer(token), timeout=5
                ).status_code
            )

    start = time.monotonic()
    threads = [threading.Thread(target=refresh, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    assert server.wait_for_count("POST", "/token/refresh", n=4, timeout=2)
    for t in threads:
        t.join()
    # Four delayed requests at once take about one delay, not four: handling is concurrent.
    assert results == [200] * 4
    assert time.monotonic() - start < 1.5


def test_hang_does_not_block_other_requests(server, http):
    server.add_fault("GET", "/teams", Fault.hang(10))

    def hang() -> None:
        try:
            http.get(f"{server.api_url}/teams", timeout=(2, 3))
        except requests.RequestException:
            pass  # expected: the read times out or the server closes at stop()

    threading.Thread(target=hang, daemon=True).start()
    assert server.wait_for_count("GET", "/teams", timeout=2)
    with requests.Session() as other:
        other.verify, other.trust_env = server.ca_bundle, False
        r = other.get(
            f"{server.api_url}/users/current", headers=bearer(server.issue_token()), timeout=2
        )
    assert r.status_code == 200


def test_stop_is_prompt_during_a_hang(ca):
    server = FakeNexla(ca=ca).start()
    server.add_fault("GET", "/users/current", Fault.hang(30))
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            requests.get(f"{server.api_url}/users/current", verify=server.ca_bundle, timeout=10)
        except requests.RequestException as exc:
            outcome.append(exc)

    client = threading.Thread(target=call, daemon=True)
    client.start()
    assert server.wait_for_count("GET", "/users/current", timeout=2)

    start = time.monotonic()
    server.stop()
    assert time.monotonic() - start < 1
    # The hung handler woke up and closed, so the client is not left waiting for 10 s.
    client.join(timeout=2)
    assert not client.is_alive()
    assert isinstance(outcome[0], requests.ConnectionError)
    server.cleanup()


def test_restart_keeps_port_and_shared_ca(ca):
    with FakeNexla(ca=ca) as a, FakeNexla(ca=ca) as b:
        assert a.port != b.port
        token = b.issue_token()
        # Either server's bundle verifies the other: they share the CA.
        r = requests.get(
            f"{b.api_url}/users/current", headers=bearer(token), verify=a.ca_bundle, timeout=5
        )
        assert r.status_code == 200
        port = a.port
        a.stop()
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{a.api_url}/users/current", verify=a.ca_bundle, timeout=2)
        a.start()
        assert a.port == port
        assert (
            requests.get(
                f"https://localhost:{port}/nexla-api/teams", verify=a.ca_bundle, timeout=5
            ).status_code
            == 401
        )


# ---- reset: one server for a whole session ---------------------------------------------------

# What reset() keeps: the socket, port and CA, and the machinery that tracks handlers.
KEPT_BY_RESET = {
    "ca",
    "_tmp",
    "ca_bundle",
    "_ssl_context",
    "port",
    "_lock",
    "_logged",
    "_generation",
    "_open",
    "_using_state",
    "_wake",
    "_httpd",
    "_thread",
}


def session_trusting(server: FakeNexla) -> requests.Session:
    session = requests.Session()
    session.verify, session.trust_env = server.ca_bundle, False
    return session


def test_reset_puts_every_attribute_back_as_a_new_server_has_it(ca, fresh_server):
    server = fresh_server()
    changed = sorted(set(vars(server)) - KEPT_BY_RESET)
    for name in changed:
        setattr(server, name, object())  # whatever a test may have left there
    server.reset()
    new = FakeNexla(ca=ca)
    try:
        # An attribute added to __init__ but not to what reset() restores fails here.
        assert {name: getattr(server, name) for name in changed} == {
            name: getattr(new, name) for name in changed
        }
        assert set(vars(server)) == set(vars(new))
    finally:
        new.cleanup()


def test_reset_forgets_what_a_test_did_over_the_wire(fresh_server):
    server = fresh_server()
    token = server.issue_token()
    server.add_service_key("svc-reset")
    server.add_fault("GET", "/teams", Fault.status(503), times=None)
    server.set_delay("GET", "/flows", 0.5)
    server.default_lifetime, server.flow_count, server.paging_headers = 5, 9, False
    with session_trusting(server) as http:
        http.post(f"{server.api_url}/teams", json={"name": "New"}, headers=bearer(token))
        assert server.count() == 1 and len(server.teams) == len(TEAMS) + 1
        assert server.reset() is True

        assert (server.requests, server.issued, server.errors, server.delay) == ([], [], [], {})
        assert not server.is_valid(token)
        minted = http.post(
            f"{server.api_url}/token", headers={"Authorization": "Basic svc-reset"}, timeout=5
        )
        assert minted.status_code == 401  # the service key is forgotten
        fresh = server.issue_token()
        teams = http.get(f"{server.api_url}/teams", headers=bearer(fresh), timeout=5)
        assert teams.status_code == 200 and teams.json() == TEAMS  # no fault, no new team
        started = time.monotonic()
        flows = http.get(f"{server.api_url}/flows", headers=bearer(fresh), timeout=5)
        assert time.monotonic() - started < 0.5  # the delay is gone
        assert len(flows.json()["flows"]) == 3 and "X-Total-Count" in flows.headers
        refreshed = http.post(f"{server.api_url}/token/refresh", headers=bearer(fresh), timeout=5)
        assert 3590 <= refreshed.json()["expires_in"] <= 3600


def test_reset_keeps_the_socket_port_and_ca(fresh_server):
    server = fresh_server()
    port, bundle = server.port, Path(server.ca_bundle).read_bytes()
    server.reset()
    assert server.running and server.port == port
    assert Path(server.ca_bundle).read_bytes() == bundle
    with session_trusting(server) as http:
        r = http.get(f"{server.api_url}/teams", headers=bearer(server.issue_token()), timeout=5)
    assert r.status_code == 200


def test_reset_wakes_a_hung_handler_which_leaves_no_trace(fresh_server):
    server = fresh_server()
    server.add_fault("GET", "/teams", Fault.hang(30))
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            with session_trusting(server) as http:
                http.get(f"{server.api_url}/teams", timeout=20)
        except requests.RequestException as exc:
            outcome.append(exc)

    client = threading.Thread(target=call, daemon=True)
    client.start()
    assert server.wait_for_count("GET", "/teams", timeout=2)
    started = time.monotonic()
    assert server.reset() is True  # the hung handler woke up and closed in time
    assert time.monotonic() - started < 2
    client.join(timeout=2)
    assert not client.is_alive() and isinstance(outcome[0], requests.ConnectionError)
    assert server.requests == [] and server.errors == []


def test_reset_wakes_a_delayed_handler_before_it_answers(fresh_server):
    server = fresh_server()
    server.set_delay("POST", "/token/refresh", 30)
    token = server.issue_token()
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            with session_trusting(server) as http:
                http.post(f"{server.api_url}/token/refresh", headers=bearer(token), timeout=20)
        except requests.RequestException as exc:
            outcome.append(exc)

    client = threading.Thread(target=call, daemon=True)
    client.start()
    assert server.wait_for_count("POST", "/token/refresh", timeout=2)
    assert server.reset() is True
    client.join(timeout=2)
    assert isinstance(outcome[0], requests.ConnectionError)
    assert server.issued == []  # the woken handler did not go on to mint a token


def test_a_handler_outlasting_reset_never_touches_the_new_state(fresh_server):
    """A request still arriving after reset() gave up waiting for it is not logged, takes no
    fault, reaches no endpoint and is not answered: the next test sees none of it."""
    server = fresh_server()
    context = ssl.create_default_context(cafile=server.ca_bundle)
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    with context.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
        # The handshake is done, so the server has taken the connection; the headers are not.
        conn.sendall(b"POST /nexla-api/token/refresh HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert server.reset(timeout=0.2) is False  # its handler is still reading

        token = server.issue_token()
        server.add_fault("POST", "/token/refresh", Fault.status(418))
        conn.sendall(f"Authorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n".encode())
        assert conn.recv(1024) == b""  # closed without an answer

    assert server.requests == [] and server.issued == [token] and server.is_valid(token)
    with session_trusting(server) as http:
        r = http.post(f"{server.api_url}/token/refresh", headers=bearer(token), timeout=5)
    assert r.status_code == 418  # the fault was still there for this test's request


def test_settle_leaves_the_state_alone(fresh_server):
    server = fresh_server()
    token = server.issue_token()
    with session_trusting(server) as http:
        http.get(f"{server.api_url}/teams", headers=bearer(token), timeout=5)
        assert server.settle() is True
        assert server.count("GET", "/teams") == 1 and server.is_valid(token)
        # Requests after it are served and logged as usual.
        assert http.get(f"{server.api_url}/teams", headers=bearer(token), timeout=5).ok
    assert server.count("GET", "/teams") == 2


# ---- the CLI sandbox fixtures -----------------------------------------------------------------


def test_cli_env_is_sandboxed(cli_env, nexla_server, tmp_path):
    assert not any(
        name.startswith("NEXLA_")
        for name in cli_env
        if name not in ("NEXLA_CONFIG_DIR", "NEXLA_TIMEOUT")
    )
    assert cli_env["NEXLA_CONFIG_DIR"] == str(tmp_path / "config")
    assert not cli_env.config_dir.exists()  # the CLI is the one to create it, 0700
    assert cli_env["REQUESTS_CA_BUNDLE"] == nexla_server.ca_bundle
    assert cli_env["HOME"] == str(tmp_path / "home") and cli_env.home.is_dir()
    assert (cli_env["NO_COLOR"], cli_env["NEXLA_TIMEOUT"]) == ("1", "5")


def test_browser_recorder_catches_webbrowser(cli_env):
    # The CLI opens the token page with Python's webbrowser; check that $BROWSER reaches it.
    for url in ("https://127.0.0.1:1/token", "https://example.com/token?a=1&b=2"):
        subprocess.run(
            [sys.executable, "-c", "import sys, webbrowser; webbrowser.open(sys.argv[1])", url],
            env=cli_env,
            check=True,
            timeout=30,
        )
    assert cli_env.browser_log.read_text().splitlines() == [
        "https://127.0.0.1:1/token",
        "https://example.com/token?a=1&b=2",
    ]


def test_each_test_gets_the_shared_server_as_new(nexla_server, shared_server):
    assert nexla_server is shared_server and nexla_server.running
    assert (nexla_server.requests, nexla_server.issued, nexla_server.delay) == ([], [], {})
    assert nexla_server.default_lifetime == 3600 and nexla_server.teams == TEAMS


@pytest.mark.own_server
def test_own_server_marker_gives_a_server_of_its_own(nexla_server, shared_server):
    assert nexla_server is not shared_server and nexla_server.running
    assert nexla_server.port != shared_server.port


