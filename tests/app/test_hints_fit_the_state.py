"""A rejected (or run-out) session's hint fits what is saved (docs/signing-in.md, "What each
failure means"): `nexla env login` drops a saved service key, so with a saved key the hint is
`nexla token refresh`, which mints a new session from it; without one, `nexla env login`.
Each place that reports such a session is asked both ways, and the hint given with a key is
followed to show that it works and keeps the key."""

from __future__ import annotations

import pytest

from tests.support.fake_nexla import Fault
from tests.support.signing_in import seed
from tests.support.stores import env_record

KEY = "svc-key-hints"


def _hint(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("hint: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def _rejected(nx, *, key: bool) -> None:
    """A session the server no longer accepts (revoked behind the CLI's back)."""
    if key:
        nx.server.add_service_key(KEY)
    token = seed(nx, service_key=KEY if key else None)
    nx.server.invalidate(token)


def _expired(nx, *, key: bool) -> None:
    """A session past the expiry the server gave (an estimated one that passed may still be
    refreshed: tests/app/test_frictions.py)."""
    if key:
        nx.server.add_service_key(KEY)
    seed(nx, service_key=KEY if key else None, age=7200, lifetime=3600, source="refreshed")


def _refused_twice(nx, *, key: bool) -> None:
    """`nexla api` is refused, renews, and is refused again."""
    if key:
        nx.server.add_service_key(KEY)
    seed(nx, service_key=KEY if key else None)
    nx.server.add_fault("GET", "/teams", Fault.status(401), times=2)


# Each place a session the server will not take is reported: (make the world, the command,
# its exit code).
PLACES = {
    "env list --check": (_rejected, ["env", "list", "--check"], 4),
    "env show --check": (_rejected, ["env", "show", "--check"], 4),
    "token status, expired": (_expired, ["token", "status"], 4),
    "token status --json, expired": (_expired, ["token", "status", "--json"], 4),
    "api, refused after renewing": (_refused_twice, ["api", "/teams"], 4),
}


@pytest.mark.parametrize("place", list(PLACES))
def test_without_a_saved_key_the_hint_is_to_sign_in_again(nx, place):
    make, args, code = PLACES[place]
    make(nx, key=False)
    hint = _hint(nx.fails(code, *args))
    assert f"nexla env login --env {nx.server.host}" in hint


@pytest.mark.parametrize("place", list(PLACES))
def test_with_a_saved_key_the_hint_is_token_refresh_and_it_works(nx, place):
    make, args, code = PLACES[place]
    make(nx, key=True)
    hint = _hint(nx.fails(code, *args))
    assert "env login" not in hint
    assert f"nexla token refresh --env {nx.server.host}" in hint
    # Following the hint gets a working session from the key, which stays saved.
    nx.server.clear_faults()
    nx.ok("token", "refresh", "--env", nx.server.host)
    assert env_record(nx.config_dir, nx.server.host).get("saved_key")
    nx.ok("env", "show", "--check")


def test_a_refused_key_is_not_offered_as_the_way_out(nx):
    # The server refused the saved key before: it is not sent again, so `token refresh`
    # would not help; saving a valid key (or signing in, which loses only the refused
    # key) does.
    nx.server.add_service_key(KEY)
    token = seed(nx, service_key=KEY)
    nx.server.remove_service_key(KEY)
    nx.server.invalidate(token)
    nx.fails(4, "token", "refresh")  # the key is refused, and remembered so
    hint = _hint(nx.fails(4, "env", "list", "--check"))
    assert "token refresh" not in hint
    assert f"nexla token from-key --env {nx.server.host} --save-key" in hint
