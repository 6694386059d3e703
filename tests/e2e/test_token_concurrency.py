"""Single-flight renewal across real processes, and the store's lock.

Each test starts its crowd of `nexla` processes together and asserts what the fake server
itself counted. A server-side delay on the refresh keeps the first refresh in flight long
enough for the others to find the token due and queue up behind it.

A crowd meeting a hanging API is tests/e2e/test_stress.py's
test_a_crowd_meets_an_outage_with_one_refresh_attempt.
"""

from __future__ import annotations

import time

import filelock  # noqa: TID253 (tests are exempt from the start-up rule)

from tests.support.fake_nexla import Fault
from tests.support.outcomes import describe
from tests.support.processes import run_together, start
from tests.support.signing_in import seed, seed_configured
from tests.support.stores import read_store, set_times, stored_session

CROWD = 12  # the contract's: twelve `token print` started together make one renewal


# a crowd of processes
def test_twelve_prints_on_a_due_token_make_one_refresh(nx):
    old = nx.sign_in()
    set_times(nx, lifetime=3600, left=60)  # inside the 5-minute margin, still valid
    nx.server.set_delay("POST", "/token/refresh", 1.0)
    results = run_together(nx, [("token", "print")] * CROWD)

    assert [r.returncode for r in results] == [0] * CROWD, describe(results)
    assert nx.server.count("POST", "/token/refresh") == 1
    new = stored_session(nx)["access_token"]
    assert new != old and nx.server.is_valid(new)
    assert {r.stdout for r in results} == {new + "\n"}
    assert all(r.stderr == "" for r in results), describe(results)


# a crowd of processes
def test_a_crowd_of_prints_on_an_expired_token_with_a_key_mints_once(nx):
    # What `token from-key --save-key` stores, an hour and ten seconds ago.
    nx.server.add_service_key("svc-crowd")
    seed(nx, lifetime=3600, age=3610, source="service_key", service_key="svc-crowd")
    nx.server.set_delay("POST", "/token", 1.0)
    # Six: a mint is single-flight by the same lock and re-check as a refresh, whose
    # contract crowd of twelve is the test above; half of it shows the same for a mint.
    crowd = CROWD // 2
    results = run_together(nx, [("token", "print")] * crowd)

    assert [r.returncode for r in results] == [0] * crowd, describe(results)
    assert nx.server.count("POST", "/token") == 1  # one re-mint
    assert nx.server.count("POST", "/token/refresh") == 0
    new = stored_session(nx)["access_token"]
    assert nx.server.is_valid(new)
    assert {r.stdout for r in results} == {new + "\n"}


# processes at once
def test_concurrent_refreshes_of_two_environments_lose_nothing(nx):
    nx.sign_in()
    other = f"localhost:{nx.server.port}"
    seed_configured(nx, other, nx.server.issue_token())
    before = read_store(nx.config_dir)
    # Each refresh holds the store's lock for this long, so the others queue behind it.
    nx.server.set_delay("POST", "/token/refresh", 0.2)

    # Two writers per environment: each rewrites the one store, so each could lose the
    # other environment's newest token or its own twin's; more of the same adds time only.
    commands = [("token", "refresh", "--print", "--env", nx.server.host)] * 2
    commands += [("token", "refresh", "--print", "--env", other)] * 2
    results = run_together(nx, commands)

    assert [r.returncode for r in results] == [0] * len(commands), describe(results)
    refreshes = nx.server.count("POST", "/token/refresh")
    assert 2 <= refreshes <= len(commands)
    after = read_store(nx.config_dir)
    assert after["current"] == before["current"] == other
    assert set(after["environments"]) == {nx.server.host, other}
    for name in (nx.server.host, other):
        env = after["environments"][name]
        assert env["api_url"] == before["environments"][name]["api_url"]
        assert env["session"]["source"] == "refreshed"
        assert nx.server.is_valid(env["session"]["access_token"]), name
        assert "refresh_failure" not in env["session"]
    # Every process printed a token the server issued, and the last one of each
    # environment is the one stored.
    printed_a = {r.stdout.strip() for r in results[:2]}
    printed_b = {r.stdout.strip() for r in results[2:]}
    assert after["environments"][nx.server.host]["session"]["access_token"] in printed_a
    assert after["environments"][other]["session"]["access_token"] in printed_b
    assert printed_a <= set(nx.server.issued) and printed_b <= set(nx.server.issued)
    assert not printed_a & printed_b


# the lock is held by a process
def test_lock_is_released_after_one_request_timeout(nx):
    # The refresh hangs for a minute; the lock must be free one attempt (connect + read
    # timeout) after the request, give or take a busy machine's second.
    timeout = 0.5
    one_attempt_and_slack = 2 * timeout + 1.0
    nx.sign_in()
    nx.server.add_fault("POST", "/token/refresh", Fault.hang(60), times=None)
    proc = start(nx, "token", "refresh", env=nx.env_with(NEXLA_TIMEOUT=str(timeout)))
    try:
        assert nx.server.wait_for_count("POST", "/token/refresh", 1, timeout=30)
        waited = time.monotonic()
        lock = filelock.FileLock(str(nx.config_dir / "credentials.json.lock"))
        with lock.acquire(timeout=30):
            held_after_request = time.monotonic() - waited
        assert proc.wait(timeout=30) == 5, proc.stderr.read()
    finally:
        proc.kill()
        proc.communicate()
    assert held_after_request < one_attempt_and_slack, held_after_request
    assert nx.server.count("POST", "/token/refresh") == 1
