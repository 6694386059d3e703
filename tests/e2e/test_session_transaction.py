"""A refresh or a mint is a transaction (docs/sessions.md, "Renewal is a transaction").

Before `POST /token/refresh` or `POST /token` is sent, room for the answer is reserved; if
there is none, nothing is sent. From the request until the answer is stored, SIGINT,
SIGTERM and SIGHUP wait. If storing still fails, the stored token is marked dead. Logging
out checks the same way before it ends the session on the server.
"""

from __future__ import annotations

import signal

import pytest

from tests.support.inprocess import run_in_process
from tests.support.outcomes import assert_error, describe, warnings_in
from tests.support.processes import finish, run_with_file_limit, start
from tests.support.signing_in import seed
from tests.support.stores import store_bytes, stored_session

FULL_DISK = 0
# How long the server holds the answer while a signal is sent: the signal goes out as soon
# as the request is seen, so it only needs to outlast the test's own reaction on a busy
# machine (milliseconds), not a process start.
HELD = 0.5


def print_here(nx):
    """`nexla token print` in this process: the run after the limited one has no limit."""
    return run_in_process(["token", "print"], env=nx.env, cwd=nx.tmp_path)


# RLIMIT_FSIZE
def test_refresh_on_a_full_disk_sends_nothing_and_keeps_the_session(nx):
    old = seed(nx)
    before = store_bytes(nx.config_dir)
    result = run_with_file_limit(nx, FULL_DISK, "token", "refresh")
    assert_error(result, 3, "no room")
    assert "nothing was sent" in result.stderr
    assert nx.server.count() == 0
    assert store_bytes(nx.config_dir) == before
    assert nx.server.is_valid(old)
    later = print_here(nx)
    assert later.returncode == 0 and later.stdout == old + "\n", describe(later)


# RLIMIT_FSIZE
def test_due_print_on_a_full_disk_prints_the_valid_token_with_a_warning(nx):
    old = seed(nx, lifetime=3600, age=3500)
    before = store_bytes(nx.config_dir)
    result = run_with_file_limit(nx, FULL_DISK, "token", "print")
    assert result.returncode == 0, describe(result)
    assert result.stdout == old + "\n"
    (warning,) = warnings_in(result)
    assert "no room" in warning and "using the current token" in warning
    assert nx.server.count() == 0
    assert store_bytes(nx.config_dir) == before


# RLIMIT_FSIZE
def test_expired_session_on_a_full_disk_does_not_mint(nx):
    nx.server.add_service_key("svc-full-disk")
    seed(nx, lifetime=3600, age=4000, service_key="svc-full-disk")
    before = store_bytes(nx.config_dir)
    result = run_with_file_limit(nx, FULL_DISK, "token", "print")
    assert_error(result, 3, "no room")
    assert nx.server.count("POST", "/token") == 0
    assert store_bytes(nx.config_dir) == before


# RLIMIT_FSIZE
def test_from_key_on_a_full_disk_sends_nothing(nx):
    seed(nx)
    nx.server.add_service_key("svc-full-disk")
    before = store_bytes(nx.config_dir)
    result = run_with_file_limit(
        nx, FULL_DISK, "token", "from-key", env=nx.env_with(NEXLA_SERVICE_KEY="svc-full-disk")
    )
    assert_error(result, 3, "no room")
    assert nx.server.count() == 0
    assert store_bytes(nx.config_dir) == before


# RLIMIT_FSIZE
@pytest.mark.parametrize("args", [("env", "logout"), ("env", "remove", "{host}")])
def test_logout_and_remove_on_a_full_disk_change_nothing_anywhere(nx, args):
    old = seed(nx)
    before = store_bytes(nx.config_dir)
    argv = [arg.format(host=nx.server.host) for arg in args]
    result = run_with_file_limit(nx, FULL_DISK, *argv)
    assert_error(result, 3, "no room")
    assert nx.server.count() == 0, "the session was ended on the server"
    assert nx.server.is_valid(old)
    assert store_bytes(nx.config_dir) == before


# RLIMIT_FSIZE
def test_an_answer_that_cannot_be_stored_marks_the_token_dead(nx):
    # The server's answer is far bigger than the file: room was reserved for a normal
    # session, so the write outgrows it and fails after the server rotated the token.
    huge_user = {"id": 42, "email": "ada@example.com", "full_name": "A" * 200_000}
    old = seed(nx, nx.server.issue_token(user=huge_user))
    result = run_with_file_limit(nx, 100_000, "token", "refresh")
    assert_error(result, 3, "could not be stored")
    assert "sign-in" in result.stderr and "nexla env login" in result.stderr
    assert nx.server.count("POST", "/token/refresh") == 1
    assert not nx.server.is_valid(old)
    session = stored_session(nx)
    assert session["access_token"] == old
    assert session["refresh_failure"]["kind"] == "rejected"
    # Never printed again as if it were valid, and not sent again either.
    later = print_here(nx)
    assert_error(later, 4, "expired or was revoked")
    assert "nexla env login" in later.stderr
    assert nx.server.count("POST", "/token/refresh") == 1


# real signals
@pytest.mark.parametrize(
    "signum, code",
    [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)],
    ids=["SIGTERM", "SIGHUP", "SIGINT"],
)
def test_a_signal_during_a_refresh_waits_until_the_new_session_is_stored(nx, signum, code):
    old = seed(nx)
    nx.server.set_delay("POST", "/token/refresh", HELD)
    proc = start(nx, "token", "refresh")
    assert nx.server.wait_for_count("POST", "/token/refresh", timeout=30)
    proc.send_signal(signum)
    result = finish(proc)
    assert result.returncode == code, describe(result)
    assert "interrupted" in result.stderr
    new = nx.server.issued[-1]
    assert new != old and nx.server.is_valid(new)
    assert stored_session(nx)["access_token"] == new
    assert "Traceback" not in result.stderr


# a real SIGTERM
def test_a_signal_during_a_mint_waits_until_the_new_session_is_stored(nx):
    nx.server.add_service_key("svc-slow")
    seed(nx, lifetime=3600, age=4000, service_key="svc-slow")
    nx.server.set_delay("POST", "/token", HELD)
    proc = start(nx, "token", "print")
    assert nx.server.wait_for_count("POST", "/token", timeout=30)
    proc.send_signal(signal.SIGTERM)
    result = finish(proc)
    assert result.returncode == 143, describe(result)
    assert result.stdout == ""
    stored = stored_session(nx)
    assert stored["access_token"] == nx.server.issued[-1]
    assert nx.server.is_valid(stored["access_token"])
