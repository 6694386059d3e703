"""The fake API's `held` fault (tests/support/fake_nexla.py): the answer waits for the test's
gate, then comes normally; a reset ends the wait with the connection closed unanswered."""

from __future__ import annotations

import threading
import time

import pytest
import requests  # noqa: TID253 (tests are exempt from the start-up rule)

from tests.support.fake_nexla import Fault


@pytest.fixture
def http(nexla_server):
    with requests.Session() as session:
        session.verify = nexla_server.ca_bundle
        session.trust_env = False
        yield session


def _get_current_user(server, http, results: list) -> threading.Thread:
    def get() -> None:
        headers = {"Authorization": f"Bearer {server.issue_token()}"}
        try:
            results.append(http.get(f"{server.api_url}/users/current", headers=headers, timeout=5))
        except requests.RequestException as exc:
            results.append(exc)

    thread = threading.Thread(target=get)
    thread.start()
    return thread


def test_the_answer_waits_for_the_gate_then_comes_normally(nexla_server, http):
    gate = threading.Event()
    nexla_server.add_fault("GET", "/users/current", Fault.held(gate))
    results: list = []
    thread = _get_current_user(nexla_server, http, results)
    assert nexla_server.wait_for_count("GET", "/users/current", timeout=5)
    time.sleep(0.2)
    assert results == []  # asked, not answered
    gate.set()
    thread.join(5)
    assert [r.status_code for r in results] == [200]


def test_a_reset_closes_a_held_request_unanswered(nexla_server, http):
    nexla_server.add_fault("GET", "/users/current", Fault.held(threading.Event()))
    results: list = []
    thread = _get_current_user(nexla_server, http, results)
    assert nexla_server.wait_for_count("GET", "/users/current", timeout=5)
    started = time.monotonic()
    nexla_server.reset()
    thread.join(5)
    assert time.monotonic() - started < 5
    assert len(results) == 1 and isinstance(results[0], requests.RequestException)
