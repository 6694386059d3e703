"""What each answer to a renewal leads to (docs/sessions.md, "What each answer means").

With a saved service key, a refresh refused or not offered (any 4xx) is followed by a mint,
as Nexla's SDK renews. Without one, 401/403 mean the session is dead, and 400/404/405 mean
the server has no refresh: the token is used while valid, and past that a sign-in is needed
(exit 4, never 5). A saved key the server refuses is not sent again. A session obtained
"in the future" means the clock moved: it is renewed rather than trusted.
"""

from __future__ import annotations

import pytest

from tests.support.fake_nexla import Fault
from tests.support.outcomes import assert_error, warnings_in
from tests.support.signing_in import seed
from tests.support.stores import edit_session, env_record, now, stored_session

NOT_OFFERED = {
    400: Fault.status(400, {"message": "Bad request", "error_code": 400}),
    404: Fault.status(404, b""),
    405: Fault.status(405, {"message": "Method not allowed", "error_code": 405}),
}
REFUSED = {401: Fault.status(401, b""), 403: Fault.status(403, b"")}


def _refresh_answers(nx, status: int) -> None:
    fault = {**NOT_OFFERED, **REFUSED}[status]
    nx.server.add_fault("POST", "/token/refresh", fault, times=None)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405])
def test_with_a_saved_key_any_4xx_to_a_refresh_is_followed_by_a_mint(nx, status):
    nx.server.add_service_key("svc-renew")
    old = seed(nx, service_key="svc-renew")
    _refresh_answers(nx, status)
    result = nx.ok("token", "refresh", "--print")
    assert nx.server.count("POST", "/token/refresh") == 1
    assert nx.server.count("POST", "/token") == 1
    new = result.stdout.strip()
    assert new != old and nx.server.is_valid(new)
    session = stored_session(nx)
    assert session["access_token"] == new and session["source"] == "service_key"
    assert "refresh_failure" not in session


@pytest.mark.parametrize("status", [400, 404, 405])
def test_without_a_key_a_server_without_refresh_is_exit_4_for_token_refresh(nx, status):
    old = seed(nx)
    _refresh_answers(nx, status)
    result = nx.run("token", "refresh")
    assert_error(result, 4, "does not refresh")
    assert "nexla env login" in result.stderr
    session = stored_session(nx)
    assert session["access_token"] == old
    # Not an outage: not remembered as one.
    assert session["refresh_failure"]["kind"] == "not_offered"


@pytest.mark.parametrize("status", [400, 404, 405])
def test_without_a_key_a_due_token_is_used_and_the_server_asked_once(nx, status):
    old = seed(nx, lifetime=3600, age=3500)
    _refresh_answers(nx, status)
    for _ in range(2):
        result = nx.ok("token", "print")
        assert result.stdout == old + "\n"
        (warning,) = warnings_in(result)
        assert "does not refresh" in warning
    assert nx.server.count("POST", "/token/refresh") == 1


@pytest.mark.parametrize("status", [400, 404, 405])
def test_without_a_key_an_expired_session_on_a_server_without_refresh_is_exit_4(nx, status):
    seed(nx, lifetime=3600, age=4000)
    _refresh_answers(nx, status)
    result = nx.run("token", "print")
    assert_error(result, 4, "does not refresh")
    assert "nexla env login" in result.stderr


@pytest.mark.parametrize("status", [401, 403])
def test_without_a_key_a_refused_refresh_is_a_dead_session(nx, status):
    seed(nx, lifetime=3600, age=3500)
    _refresh_answers(nx, status)
    result = nx.run("token", "print")
    assert_error(result, 4, "expired or was revoked")
    assert stored_session(nx)["refresh_failure"]["kind"] == "rejected"


def test_api_after_a_401_on_a_server_without_refresh_is_exit_4(nx):
    old = seed(nx)
    nx.server.invalidate(old)
    _refresh_answers(nx, 404)
    result = nx.fails(4, "api", "/teams")
    assert "nexla env login" in result.stderr
    assert nx.server.count("POST", "/token/refresh") == 1


def test_api_after_a_401_on_a_server_without_refresh_mints_from_the_saved_key(nx):
    nx.server.add_service_key("svc-api")
    old = seed(nx, service_key="svc-api")
    nx.server.invalidate(old)
    _refresh_answers(nx, 405)
    nx.ok("api", "/teams")
    assert nx.server.count("POST", "/token") == 1
    assert nx.server.last("GET", "/teams").authorization == f"Bearer {nx.server.issued[-1]}"


def test_a_refused_saved_key_is_not_sent_again(nx):
    seed(nx, lifetime=3600, age=4000, service_key="svc-revoked")  # unknown to the server
    first = nx.run("token", "print")
    assert_error(first, 4, "service key")
    assert nx.server.count("POST", "/token") == 1
    for args in (("token", "print"), ("token", "refresh"), ("api", "/teams")):
        again = nx.fails(4, *args)
        assert "nexla token from-key" in again.stderr
    assert nx.server.count("POST", "/token") == 1
    assert nx.server.count("POST", "/token/refresh") == 0

    # A key saved anew is used again.
    nx.server.add_service_key("svc-good")
    nx.ok("token", "from-key", "--save-key", env=nx.env_with(NEXLA_SERVICE_KEY="svc-good"))
    edit_session(nx, obtained_at=now() - 4000, expires_at=now() - 400)
    nx.ok("token", "print")
    assert nx.server.count("POST", "/token") == 3
    assert nx.server.last("POST", "/token").authorization == "Basic svc-good"


def test_a_sign_in_forgets_that_the_key_was_refused(nx):
    seed(nx, lifetime=3600, age=4000, service_key="svc-revoked")
    assert nx.run("token", "print").returncode == 4
    assert "rejected_at" in env_record(nx.config_dir, nx.server.host)["saved_key"]
    nx.sign_in_with_cli()
    # The same user in the same org: the key stays saved (its identity's own), its refusal
    # is forgotten, so the next renewal may try it again.
    record = nx.run("env", "show", "--json")
    assert '"service_key_saved": true' in record.stdout
    assert "rejected_at" not in (nx.config_dir / "credentials.json").read_text()


def test_a_session_obtained_in_the_future_is_renewed_not_trusted(nx):
    # Signed in while the clock was two days ahead; the server has since expired the token.
    old = seed(nx)
    edit_session(nx, obtained_at=now() + 2 * 86400, expires_at=now() + 2 * 86400 + 3600)
    nx.server.expire(old)
    result = nx.run("token", "print")  # the fast path must not answer this either
    assert_error(result, 4, "expired or was revoked")
    assert nx.server.count("POST", "/token/refresh") == 1


def test_a_session_obtained_in_the_future_is_reminted_from_a_saved_key(nx):
    nx.server.add_service_key("svc-clock")
    old = seed(nx, service_key="svc-clock")
    edit_session(nx, obtained_at=now() + 2 * 86400, expires_at=now() + 2 * 86400 + 3600)
    result = nx.ok("token", "print")
    assert result.stdout.strip() == nx.server.issued[-1] != old
    session = stored_session(nx)
    assert session["obtained_at"] <= now()


def test_the_fast_path_hands_a_session_from_the_future_to_the_full_app(nx, monkeypatch):
    """The fast path (no Typer, no request) must not print it: it returns None, which
    makes main.py run the full app, which renews."""
    from nexla_cli.core.runtime import Streams
    from nexla_cli.deps import Deps
    from nexla_cli.fast import fastpath

    old = seed(nx)
    deps = Deps({"NEXLA_CONFIG_DIR": str(nx.config_dir)}, Streams(None, None, None))
    assert fastpath._fresh_token(deps, None, 0)[0] == old  # as stored: fresh, answered here
    edit_session(nx, obtained_at=now() + 2 * 86400, expires_at=now() + 2 * 86400 + 3600)
    assert fastpath._fresh_token(deps, None, 0) is None
