"""Tests of the fake Nexla server itself, over real TLS with `requests`.

If these fail, CLI test failures mean nothing: they check that the fake behaves like the API
facts in docs/api-facts.md and that every fault does what its name says.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

# The project bans module-level `requests` imports for CLI start-up speed; tests are exempt.
import requests  # noqa: TID253

from tests.fake_nexla import DEFAULT_ORG, DEFAULT_USER, FakeNexla, Fault


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


# ---- authentication endpoints ---------------------------------------------------------------


def test_users_current_with_valid_token(server, http):
    token = server.issue_token()
    r = http.get(f"{server.api_url}/users/current", headers=bearer(token), timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"user": DEFAULT_USER, "org": DEFAULT_ORG}


def test_users_current_with_null_org(server, http):
    token = server.issue_token(org=None)
    r = http.get(f"{server.api_url}/users/current", headers=bearer(token), timeout=5)
    assert r.json()["org"] is None


@pytest.mark.parametrize("headers", [{}, bearer("tok-nonsense"), {"Authorization": "Basic x"}])
def test_users_current_rejects_with_empty_401(server, http, headers):
    r = http.get(f"{server.api_url}/users/current", headers=headers, timeout=5)
    assert r.status_code == 401
    assert r.headers["Content-Length"] == "0"
    assert r.content == b""


def test_expired_token_is_rejected(server, http):
    token = server.issue_token(lifetime=-1)
    assert not server.is_valid(token)
    r = http.get(f"{server.api_url}/users/current", headers=bearer(token), timeout=5)
    assert r.status_code == 401


def test_refresh_issues_new_token_and_kills_old(server, http):
    server.default_lifetime = 120
    old = server.issue_token()
    r = http.post(f"{server.api_url}/token/refresh", headers=bearer(old), timeout=5)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 120
    assert body["user"] == DEFAULT_USER and body["org"] == DEFAULT_ORG
    new = body["access_token"]
    assert new != old and server.issued[-1] == new
    assert server.is_valid(new) and not server.is_valid(old)
    # The refresh was sent with an empty body, as the CLI must.
    assert server.last("POST", "/token/refresh").header("Content-Length") == "0"

    again = http.post(f"{server.api_url}/token/refresh", headers=bearer(old), timeout=5)
    assert again.status_code == 401 and again.content == b""


def test_service_key_mints_a_token(server, http):
    server.add_service_key("svc-key-123", user={"id": 9, "email": "b@x.io", "full_name": "B"})
    r = http.post(
        f"{server.api_url}/token", headers={"Authorization": "Basic svc-key-123"}, timeout=5
    )
    assert r.status_code == 200
    body = r.json()
    assert body["user"]["id"] == 9
    assert server.token_info(body["access_token"]).source == "service_key"


def test_unknown_service_key_is_rejected_with_message(server, http):
    r = http.post(f"{server.api_url}/token", headers={"Authorization": "Basic nope"}, timeout=5)
    assert r.status_code == 401
    assert r.json() == {"message": "Invalid service key", "error_code": 401}


def test_logout_invalidates(server, http):
    token = server.issue_token()
    r = http.post(f"{server.api_url}/token/logout", headers=bearer(token), timeout=5)
    assert (r.status_code, r.json()) == (200, {})
    assert not server.is_valid(token)
    r = http.post(f"{server.api_url}/token/logout", headers=bearer(token), timeout=5)
    assert r.status_code == 401


# ---- resource endpoints ---------------------------------------------------------------------


def test_teams(server, http):
    h = bearer(server.issue_token())
    assert len(http.get(f"{server.api_url}/teams", headers=h, timeout=5).json()) == 3
    assert http.get(f"{server.api_url}/teams/1", headers=h, timeout=5).json()["id"] == 1

    missing = http.get(f"{server.api_url}/teams/999", headers=h, timeout=5)
    assert missing.status_code == 404
    assert missing.json() == {"message": "Team not found", "error_code": 404}

    created = http.post(f"{server.api_url}/teams?dry=1", headers=h, json={"name": "New"}, timeout=5)
    assert created.status_code == 201
    assert created.json() == {"method": "POST", "received": {"name": "New"}, "query": {"dry": "1"}}

    put = http.put(f"{server.api_url}/teams/1", headers=h, timeout=5)
    assert put.status_code == 200 and put.json()["received"] is None

    invalid = http.post(f"{server.api_url}/teams/invalid", headers=h, json={}, timeout=5)
    assert invalid.status_code == 422
    assert invalid.json() == {"message": "Name can't be blank", "error_code": 422}


def test_resources_need_a_token(server, http):
    r = http.get(f"{server.api_url}/teams", timeout=5)
    assert r.status_code == 401 and r.content == b""


def test_unknown_path_is_404(server, http):
    r = http.get(f"{server.api_url}/nothing/here", headers=bearer(server.issue_token()), timeout=5)
    assert (r.status_code, r.json()) == (404, {"message": "Not found"})


def test_flows_pagination(server, http):
    h = bearer(server.issue_token())
    url = f"{server.api_url}/flows"
    page = lambda n, size: http.get(  # noqa: E731
        url, params={"page": n, "per_page": size}, headers=h, timeout=5
    ).json()
    assert page(1, 100) == [{"id": i} for i in range(1, 101)]
    assert page(3, 100) == [{"id": i} for i in range(201, 251)]
    assert page(4, 100) == []
    server.flow_count = 200
    assert len(page(2, 100)) == 100 and page(3, 100) == []
    server.flows_ignore_page = True
    assert page(2, 10) == page(1, 10)


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
