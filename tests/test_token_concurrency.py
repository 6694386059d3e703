"""Single-flight renewal across real processes, and the store's lock.

Each test starts its crowd of `nexla` processes together and asserts what the fake server
itself counted. A server-side delay on the refresh keeps the first refresh in flight long
enough for the others to find the token due and queue up behind it.
"""

from __future__ import annotations

import time

import filelock  # noqa: TID253 (tests are exempt from the start-up rule)
import pytest

from tests.fake_nexla import Fault
from tests.outcomes import describe
from tests.processes import collect, run_together, start
from tests.signing_in import from_key, seed_configured
from tests.stores import config_bytes, read_store, set_times, stored_session

# Crowds of processes, and a lock held by another process.
pytestmark = pytest.mark.e2e

CROWD = 12


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


def test_twelve_prints_on_an_expired_token_with_a_key_mint_once(nx):
    assert from_key(nx, "svc-crowd", "--save-key").returncode == 0
    set_times(nx, lifetime=3600, left=-10)
    nx.server.set_delay("POST", "/token", 1.0)
    results = run_together(nx, [("token", "print")] * CROWD)

    assert [r.returncode for r in results] == [0] * CROWD, describe(results)
    assert nx.server.count("POST", "/token") == 2  # the first from-key and one re-mint
    assert nx.server.count("POST", "/token/refresh") == 0
    new = stored_session(nx)["access_token"]
    assert nx.server.is_valid(new)
    assert {r.stdout for r in results} == {new + "\n"}


def test_concurrent_refreshes_of_two_environments_lose_nothing(nx):
    nx.sign_in()
    other = f"localhost:{nx.server.port}"
    seed_configured(nx, other, nx.server.issue_token())
    before = read_store(nx.config_dir)
    nx.server.set_delay("POST", "/token/refresh", 0.3)

    commands = [("token", "refresh", "--print", "--env", nx.server.host)] * 8
    commands += [("token", "refresh", "--print", "--env", other)] * 4
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
    printed_a = {r.stdout.strip() for r in results[:8]}
    printed_b = {r.stdout.strip() for r in results[8:]}
    assert after["environments"][nx.server.host]["session"]["access_token"] in printed_a
    assert after["environments"][other]["session"]["access_token"] in printed_b
    assert printed_a <= set(nx.server.issued) and printed_b <= set(nx.server.issued)
    assert not printed_a & printed_b


def test_a_hanging_api_costs_one_attempt_and_about_one_timeout(nx):
    # Twelve attempts in turn would take twelve timeouts. The clock starts when the one
    # attempt reaches the server, so the seconds it takes a busy 2-core machine to start
    # twelve Python processes count against the bound only where they overlap the wait.
    timeout = 4.0
    old = nx.sign_in()
    set_times(nx, lifetime=3600, left=120)
    nx.server.add_fault("POST", "/token/refresh", Fault.hang(60), times=None)
    env = nx.env_with(NEXLA_TIMEOUT=str(timeout))

    commands = [("token", "print")] * CROWD
    launched = time.monotonic()
    procs = [start(nx, *args, env=env) for args in commands]
    try:
        assert nx.server.wait_for_count("POST", "/token/refresh", 1, timeout=60)
    except AssertionError:
        for proc in procs:
            proc.kill()
            proc.communicate()
        raise
    first_attempt = time.monotonic()
    results = collect(procs)
    done = time.monotonic()

    assert [r.returncode for r in results] == [0] * CROWD, describe(results)
    assert {r.stdout for r in results} == {old + "\n"}
    assert all("warning:" in r.stderr for r in results), describe(results)
    assert nx.server.count("POST", "/token/refresh") == 1
    assert done - first_attempt < 3 * timeout, (
        f"{CROWD} processes took {done - first_attempt:.1f}s after the first attempt "
        f"({done - launched:.1f}s in all)"
    )

    # A process starting within the 30 s window does not try again either.
    late = nx.run("token", "print", env=env)
    assert late.returncode == 0 and late.stdout == old + "\n", describe(late)
    assert nx.server.count("POST", "/token/refresh") == 1


def test_lock_is_released_after_one_request_timeout(nx):
    timeout = 2.0
    nx.sign_in()
    nx.server.add_fault("POST", "/token/refresh", Fault.hang(60), times=None)
    proc = start(nx, "token", "refresh", env=nx.env_with(NEXLA_TIMEOUT=str(timeout)))
    try:
        assert nx.server.wait_for_count("POST", "/token/refresh", 1, timeout=30)
        waited = time.monotonic()
        lock = filelock.FileLock(str(nx.config_dir / "credentials.json.lock"))
        with lock.acquire(timeout=3 * timeout):
            held_after_request = time.monotonic() - waited
        assert proc.wait(timeout=30) == 5, proc.stderr.read()
    finally:
        proc.kill()
        proc.communicate()
    assert held_after_request < 3 * timeout
    assert nx.server.count("POST", "/token/refresh") == 1


def test_lock_not_obtained_exits_5_naming_it_and_changes_nothing(nx):
    token = nx.sign_in()
    set_times(nx, lifetime=3600, left=60)
    before = config_bytes(nx)
    nx.server.clear_log()
    lock_path = nx.config_dir / "credentials.json.lock"
    env = nx.env_with(NEXLA_LOCK_TIMEOUT="1")
    with filelock.FileLock(str(lock_path)):
        refreshed = nx.run("token", "refresh", env=env)
        printed = nx.run("token", "print", env=env)
        minted = from_key(nx, "svc-locked", env=env)
    for result in (refreshed, printed, minted):
        assert result.returncode == 5, describe(result)
        assert result.stdout == ""
        assert str(lock_path) in result.stderr
        assert "Traceback" not in result.stderr
    assert nx.server.count("POST", "/token/refresh") == 0
    assert config_bytes(nx) == before
    # A fresh token needs no lock at all.
    set_times(nx, lifetime=3600, left=3000)
    with filelock.FileLock(str(lock_path)):
        fresh = nx.run("token", "print", env=env)
    assert fresh.returncode == 0 and fresh.stdout == token + "\n", describe(fresh)
