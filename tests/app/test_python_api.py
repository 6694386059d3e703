"""The Python API (docs/python.md): get_token, NexlaAuth and sdk_client in this process,
with the real SDK and real threads, against the fake Nexla API.

The library reads this process's own variables, as a user's program would: each test puts
the CLI's environment into them (tests/support/python_api.py) and compares with what
`nexla` itself does in the same world.
"""

from __future__ import annotations

import sys
import threading
import time
import warnings

import pytest
import requests  # noqa: TID253 (tests are exempt from the start-up rule)

import nexla_cli
from tests.support.fake_nexla import Fault
from tests.support.python_api import PlainRecorder, use_environment
from tests.support.stores import set_times, stored_session

SHORT = 2  # seconds: the life of a session the fake server issues in the renewal tests


@pytest.fixture
def lib(api, monkeypatch):
    """Signed in to the fake server (`lib.token`), the CLI's variables in os.environ."""
    use_environment(monkeypatch, api.env)
    return api


def short_sessions(nx) -> str:
    """The stored session and every one the server issues next live SHORT seconds; the
    stored one is due now (inside its margin, a quarter of its life). Returns its token."""
    nx.server.default_lifetime = SHORT
    token = nx.server.issue_token(lifetime=SHORT)
    nx.sign_in(token)
    set_times(nx, lifetime=SHORT * 4, left=SHORT / 2)
    return token


def bearer(nx, path: str = "/users/current") -> list[str | None]:
    return [record.authorization for record in nx.server.find("GET", path)]


# get_token -----------------------------------------------------------------------------------


def test_get_token_is_what_token_print_prints(lib, capfd):
    assert nexla_cli.get_token() == lib.ok("token", "print").stdout.strip() == lib.token
    assert nexla_cli.get_token(lib.server.host) == lib.token
    assert capfd.readouterr() == ("", "")


def test_get_token_renews_a_due_session_once_and_token_print_then_agrees(lib):
    old = short_sessions(lib)
    new = nexla_cli.get_token()
    assert new != old and lib.server.is_valid(new)
    assert lib.ok("token", "print").stdout.strip() == new
    assert lib.server.count("POST", "/token/refresh") == 1


def test_get_token_min_ttl_renews_as_the_option_does(lib):
    set_times(lib, lifetime=3600, left=600)
    assert nexla_cli.get_token(min_ttl=300) == lib.token
    renewed = nexla_cli.get_token(min_ttl=1200)
    assert renewed != lib.token and lib.server.count("POST", "/token/refresh") == 1


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), 365 * 86400 + 1, "60", True])
def test_get_token_refuses_a_min_ttl_the_option_refuses(lib, bad):
    with pytest.raises(nexla_cli.UsageError) as caught:
        nexla_cli.get_token(min_ttl=bad)
    assert caught.value.exit_code == 2 and lib.server.count() == 0


def test_a_dead_session_is_an_auth_error_with_nothing_printed(lib, capfd):
    set_times(lib, lifetime=3600, left=-10)
    lib.server.invalidate(lib.token)
    cli = lib.fails(4, "token", "print")
    capfd.readouterr()
    with pytest.raises(nexla_cli.NexlaError) as caught:
        nexla_cli.get_token()
    assert isinstance(caught.value, nexla_cli.AuthError)
    assert caught.value.exit_code == 4
    assert f"error: {caught.value.message}" in cli.stderr
    assert caught.value.hint and f"hint: {caught.value.hint}" in cli.stderr
    assert capfd.readouterr() == ("", "")


def test_a_warning_the_cli_prints_is_a_nexla_warning(lib, capfd):
    # Due, still valid, and the server answers the refresh with 500: the CLI uses the token
    # with a warning on stderr; the library returns it with a NexlaWarning.
    set_times(lib, lifetime=3600, left=60)
    lib.server.add_fault("POST", "/token/refresh", Fault.status(500), times=None)
    with pytest.warns(nexla_cli.NexlaWarning) as caught:
        assert nexla_cli.get_token() == lib.token
    assert capfd.readouterr() == ("", "")
    said = str(caught[0].message)
    assert said.startswith(f"could not refresh the session for {lib.server.host} (HTTP 500")
    # The CLI, run next, says the same (and that the failure is remembered).
    assert lib.ok("token", "print").stderr.startswith("warning: " + said.partition("(")[0])


def test_no_environment_is_a_config_error(nx, monkeypatch, capfd):
    use_environment(monkeypatch, nx.env)
    with pytest.raises(nexla_cli.ConfigError) as caught:
        nexla_cli.get_token()
    assert caught.value.exit_code == 3 and "nexla env configure" in caught.value.hint
    assert capfd.readouterr() == ("", "")


# NexlaAuth -----------------------------------------------------------------------------------


def test_nexla_auth_sends_the_live_token_under_the_api_base(lib):
    auth = nexla_cli.NexlaAuth()
    assert (auth.env, auth.api_url) == (lib.server.host, lib.server.api_url)
    response = requests.get(lib.server.api_url + "/users/current", auth=auth, timeout=10)
    assert response.status_code == 200
    assert bearer(lib) == [f"Bearer {lib.token}"]


def test_nexla_auth_renews_when_due(lib):
    old = short_sessions(lib)
    auth = nexla_cli.NexlaAuth()
    with requests.Session() as session:
        session.auth = auth
        for _ in range(3):
            session.get(lib.server.api_url + "/users/current", timeout=10).raise_for_status()
    new = stored_session(lib)["access_token"]
    assert new != old and bearer(lib) == [f"Bearer {new}"] * 3
    assert lib.server.count("POST", "/token/refresh") == 1


def test_a_401_renews_once_and_sends_the_request_again(lib):
    lib.server.add_fault("GET", "/users/current", Fault.status(401), times=1)
    response = requests.get(
        lib.server.api_url + "/users/current", auth=nexla_cli.NexlaAuth(), timeout=10
    )
    assert response.status_code == 200 and [r.status_code for r in response.history] == [401]
    new = stored_session(lib)["access_token"]
    assert bearer(lib) == [f"Bearer {lib.token}", f"Bearer {new}"] and new != lib.token
    assert lib.server.count("POST", "/token/refresh") == 1


def test_a_second_401_is_answered_as_it_is(lib):
    lib.server.add_fault("GET", "/users/current", Fault.status(401), times=2)
    response = requests.get(
        lib.server.api_url + "/users/current", auth=nexla_cli.NexlaAuth(), timeout=10
    )
    assert response.status_code == 401
    assert lib.server.count("GET", "/users/current") == 2
    assert lib.server.count("POST", "/token/refresh") == 1


def test_a_401_with_a_token_from_the_variable_is_not_renewed(api_by_variable, monkeypatch):
    use_environment(monkeypatch, api_by_variable.env)
    server = api_by_variable.server
    server.add_fault("GET", "/users/current", Fault.status(401), times=1)
    response = requests.get(
        server.api_url + "/users/current", auth=nexla_cli.NexlaAuth(), timeout=10
    )
    assert response.status_code == 401 and server.count("POST", "/token/refresh") == 0
    assert bearer(api_by_variable) == [f"Bearer {api_by_variable.token}"]


def test_the_token_is_not_sent_to_a_path_outside_the_api_base(lib):
    host = f"https://{lib.server.host}"
    for url in (host + "/elsewhere", host + "/nexla-api-other/x", host + "/nexla-api/../x"):
        requests.get(url, auth=nexla_cli.NexlaAuth(), timeout=10)
    sent = {(r.path, r.authorization) for r in lib.server.find()}
    assert sent and all(authorization is None for _, authorization in sent), sent


def test_the_token_is_not_sent_to_another_host_name_of_the_same_server(lib):
    other = f"https://localhost:{lib.server.port}/nexla-api/users/current"
    assert requests.get(other, auth=nexla_cli.NexlaAuth(), timeout=10).status_code == 401
    assert bearer(lib) == [None]


def test_the_token_is_not_sent_to_another_port(lib, fresh_server):
    other = fresh_server()
    requests.get(other.api_url + "/users/current", auth=nexla_cli.NexlaAuth(), timeout=10)
    assert [r.authorization for r in other.find()] == [None]


def test_the_token_is_not_sent_over_plain_http(lib):
    with PlainRecorder().serving() as plain:
        # The same host and path as the API, but http:// on another port: the recorder.
        requests.get(plain.url + "/nexla-api/users/current", auth=nexla_cli.NexlaAuth())
    assert plain.authorizations == [None]


@pytest.mark.parametrize("where", ["another host", "a path outside the base", "another port"])
def test_a_redirect_out_of_the_api_base_does_not_carry_the_token(lib, fresh_server, where):
    other = fresh_server() if where == "another port" else None
    location = {
        "another host": f"https://localhost:{lib.server.port}/nexla-api/echo",
        "a path outside the base": "/elsewhere",
        "another port": other.api_url + "/echo" if other else "",
    }[where]
    lib.server.add_fault("GET", "/users/current", Fault.redirect(location))
    requests.get(lib.server.api_url + "/users/current", auth=nexla_cli.NexlaAuth(), timeout=10)
    arrived = (other or lib.server).find()[-1]
    assert arrived.path != "/nexla-api/users/current" and arrived.authorization is None


def test_a_redirect_over_plain_http_does_not_carry_the_token(lib):
    with PlainRecorder().serving() as plain:
        lib.server.add_fault("GET", "/users/current", Fault.redirect(plain.url + "/nexla-api/x"))
        requests.get(lib.server.api_url + "/users/current", auth=nexla_cli.NexlaAuth())
    assert plain.authorizations == [None]


def test_a_redirect_within_the_api_base_keeps_the_token(lib):
    lib.server.add_fault("GET", "/users/current", Fault.redirect("/nexla-api/echo"))
    response = requests.get(
        lib.server.api_url + "/users/current", auth=nexla_cli.NexlaAuth(), timeout=10
    )
    assert response.json()["headers"]["authorization"] == f"Bearer {lib.token}"


def test_threads_sharing_one_nexla_auth_make_one_renewal_per_due_moment(lib):
    short_sessions(lib)
    auth = nexla_cli.NexlaAuth()
    threads, start = 8, threading.Barrier(8)
    statuses: list[int] = []

    def call() -> None:
        start.wait()
        response = requests.get(lib.server.api_url + "/users/current", auth=auth, timeout=10)
        statuses.append(response.status_code)

    workers = [threading.Thread(target=call) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert statuses == [200] * threads
    assert lib.server.count("POST", "/token/refresh") == 1
    assert len(set(bearer(lib))) == 1


def test_threads_sharing_one_nexla_auth_over_several_session_lifetimes(lib):
    short_sessions(lib)
    auth = nexla_cli.NexlaAuth()
    failures: list[int] = []
    started = time.monotonic()
    deadline = started + 3 * SHORT

    def calls() -> None:
        with requests.Session() as session:
            session.auth = auth
            while time.monotonic() < deadline:
                response = session.get(lib.server.api_url + "/users/current", timeout=10)
                if response.status_code != 200:
                    failures.append(response.status_code)

    workers = [threading.Thread(target=calls) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    assert failures == [] and lib.server.count("GET", "/users/current") > 20
    # Each renewal renewed another session: no two threads (nor one twice) renewed the same.
    renewed = [record.authorization for record in lib.server.find("POST", "/token/refresh")]
    assert len(renewed) >= 3 and len(set(renewed)) == len(renewed)
    # A session is renewed when a quarter of its life is left, its times kept in whole
    # seconds: at most one renewal every SHORT / 4 seconds, for the four threads together.
    assert len(renewed) <= elapsed / (SHORT / 4) + 1


# sdk_client ----------------------------------------------------------------------------------


def test_sdk_client_calls_succeed_across_several_session_lifetimes(lib, capfd):
    pytest.importorskip("nexla_sdk")
    short_sessions(lib)
    client = nexla_cli.sdk_client()
    assert client.api_url == lib.server.api_url
    deadline = time.monotonic() + 3 * SHORT
    calls = 0
    while time.monotonic() < deadline:
        assert client.users.get_current()["user"]["email"] == "ada@example.com"
        calls += 1
        time.sleep(0.05)
    tokens = {auth.removeprefix("Bearer ") for auth in bearer(lib)}
    assert calls > 10 and len(tokens) >= 3
    assert lib.server.count("POST", "/token/refresh") == len(tokens)
    assert capfd.readouterr() == ("", "")


def test_sdk_client_sends_one_authorization_the_live_one(lib):
    pytest.importorskip("nexla_sdk")
    client = nexla_cli.sdk_client()
    short_sessions(lib)  # the token the client was made with is now due
    echoed = client.request("GET", "/echo")
    live = stored_session(lib)["access_token"]
    assert echoed["headers"]["authorization"] == f"Bearer {live}" and live != lib.token


def test_sdk_client_after_a_401_resends_with_the_renewed_token(lib):
    pytest.importorskip("nexla_sdk")
    lib.server.add_fault("GET", "/users/current", Fault.status(401), times=1)
    assert nexla_cli.sdk_client().users.get_current()["user"]["id"] == 42
    assert lib.server.count("POST", "/token/refresh") == 1


def test_sdk_client_passes_other_arguments_to_the_sdk(lib):
    pytest.importorskip("nexla_sdk")
    assert nexla_cli.sdk_client(api_version="v2").api_version == "v2"
    with pytest.raises(nexla_cli.UsageError, match="base_url"):
        nexla_cli.sdk_client(base_url="https://elsewhere.example/nexla-api")


def test_sdk_client_without_the_sdk_names_the_extra(lib, monkeypatch):
    monkeypatch.setitem(sys.modules, "nexla_sdk", None)  # what an absent package raises
    with pytest.raises(nexla_cli.NexlaError) as caught:
        nexla_cli.sdk_client()
    assert caught.value.exit_code == 3
    assert caught.value.hint == "pip install 'nexla-auth-cli[sdk]'"
    assert lib.server.count() == 0


# The package root ------------------------------------------------------------------------------


def test_the_package_root_hands_out_the_public_names():
    from nexla_cli import core, library

    assert nexla_cli.NexlaError is core.errors.NexlaError
    assert nexla_cli.get_token is library.get_token
    assert {"get_token", "NexlaAuth", "sdk_client", "NexlaWarning", "NexlaError"} <= set(
        nexla_cli.__all__
    )
    with pytest.raises(AttributeError):
        nexla_cli.no_such_name  # noqa: B018
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert issubclass(nexla_cli.NexlaWarning, UserWarning)
