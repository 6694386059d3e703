"""`nexla env list --check` (docs/scripting.md): every signed-in environment asked at once,
one GET /users/current each, with the status and the token's source beside each."""

from __future__ import annotations

import json
import socket
from contextlib import contextmanager

from tests.support.fake_nexla import Fault
from tests.support.outcomes import assert_clean_error
from tests.support.signing_in import from_key, seed_configured


def _add_envs(nx, count: int) -> dict[str, str]:
    """`count` environments (a.test, b.test, …) whose API is the fake server; name -> token."""
    tokens = {}
    for index in range(count):
        name = f"{'abcdefghij'[index]}.test"
        tokens[name] = nx.server.issue_token()
        seed_configured(nx, name, tokens[name], "--api-url", nx.server.api_url)
    nx.server.clear_log()
    return tokens


@contextmanager
def _refusing_port():
    """A loopback port that refuses connections: bound, never listening. Held until the
    block ends, so no other process (another test worker) can take it meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def _lines(result) -> dict[str, str]:
    return {line[2:].split()[0]: line for line in result.stdout.splitlines()}


def test_all_valid_is_exit_0_one_request_each_all_at_once(nx):
    tokens = _add_envs(nx, 5)
    # Each answer waits `delay`: one after another the five would take 2.5 s. Long enough
    # that five connections and handshakes fit inside it on a loaded machine.
    delay = 0.5
    nx.server.set_delay("GET", "/users/current", delay)
    result = nx.ok("env", "list", "--check")
    requests = nx.server.find("GET", "/users/current")
    assert len(requests) == 5 and nx.server.count() == 5
    assert {r.authorization for r in requests} == {f"Bearer {t}" for t in tokens.values()}
    # All five were sent before the first answer came back: at once.
    arrivals = [r.time for r in requests]
    assert max(arrivals) - min(arrivals) < delay, arrivals
    for name in tokens:
        assert "[valid, token pasted]" in _lines(result)[name]


def test_rejected_and_unreachable_are_shown_and_rejected_wins(nx):
    tokens = _add_envs(nx, 2)
    nx.server.invalidate(tokens["a.test"])
    with _refusing_port() as port:
        down = f"https://127.0.0.1:{port}/nexla-api"
        seed_configured(nx, "down.test", nx.server.issue_token(), "--api-url", down, "--no-verify")
        result = nx.run("env", "list", "--check", env=nx.env_with(NEXLA_TIMEOUT="2"))
    assert_clean_error(result, 4, "a.test", "down.test could not be reached", "nexla env login")
    lines = _lines(result)
    assert "[rejected, token pasted]" in lines["a.test"]
    assert "[valid, token pasted]" in lines["b.test"]
    assert "[unreachable: " in lines["down.test"] and "token pasted]" in lines["down.test"]


def test_only_unreachable_is_exit_5(nx):
    _add_envs(nx, 1)
    nx.server.add_fault("GET", "/users/current", Fault.status(500), times=None)
    result = nx.run("env", "list", "--check", env=nx.env_with(NEXLA_TIMEOUT="2"))
    assert_clean_error(result, 5, "a.test")
    assert "[unreachable: " in _lines(result)["a.test"]


def test_not_signed_in_environments_are_not_asked(nx):
    _add_envs(nx, 2)
    assert nx.run("env", "logout", "--env", "b.test").returncode == 0
    nx.server.clear_log()
    result = nx.ok("env", "list", "--check")
    assert nx.server.count() == 1
    assert _lines(result)["b.test"].endswith("not signed in")


def test_json_carries_status_and_token_source(nx):
    assert from_key(nx).returncode == 0  # the fake's own host, minted from a key
    tokens = _add_envs(nx, 1)
    nx.server.invalidate(tokens["a.test"])
    result = nx.fails(4, "env", "list", "--check", "--json")
    listing = {entry["name"]: entry for entry in json.loads(result.stdout)}
    assert listing["a.test"]["check"] == "rejected"
    assert listing["a.test"]["token_source"] == "pasted"
    assert listing["a.test"]["check_error"] is None
    assert listing[nx.server.host]["check"] == "valid"
    assert listing[nx.server.host]["token_source"] == "service_key"


def test_access_token_variable_is_checked_for_the_current_environment_only(nx):
    """A token is for one host: the variable's is sent to the chosen environment alone."""
    _add_envs(nx, 2)  # b.test, configured last, is current
    token = nx.server.issue_token()
    result = nx.ok("env", "list", "--check", env=nx.env_with(NEXLA_ACCESS_TOKEN=token))
    assert [r.authorization for r in nx.server.find()] == [f"Bearer {token}"]
    lines = _lines(result)
    assert lines["b.test"].endswith("[valid, token from NEXLA_ACCESS_TOKEN]")
    assert "[" not in lines["a.test"]


def test_api_url_variable_pointing_elsewhere_sends_nothing(nx):
    _add_envs(nx, 2)
    other = "https://elsewhere.example/nexla-api"
    result = nx.run("env", "list", "--check", env=nx.env_with(NEXLA_API_URL=other))
    assert_clean_error(result, 2, "elsewhere.example")
    assert nx.server.count() == 0


def test_without_check_nothing_is_asked(nx):
    _add_envs(nx, 3)
    result = nx.ok("env", "list")
    assert "[" not in result.stdout
    assert nx.server.count() == 0
