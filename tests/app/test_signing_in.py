"""Tests of the seeding in tests/support/signing_in.py: a seeded store must be what the CLI writes.

Every test that signs in with `nx.sign_in()` relies on this: it stands in for
`nexla env configure HOST --with-token`, so each case runs the real command in one config
directory and seeds another, and the two must match (times to the second they were taken).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.support.fake_nexla import ADMIN_USER
from tests.support.signing_in import configure_options, second_name, seed_pasted_token
from tests.support.stores import store_path

# How a test asks the fake for its token, and the `env configure` options it signs in with.
CASES = {
    "opaque": ({}, ()),
    "jwt": ({"jwt": True}, ()),
    "no-org": ({"org": None}, ()),
    "impersonated": ({"impersonator": ADMIN_USER}, ()),
    "sparse-user": ({"user": {"id": 9}}, ()),
    "unverified-elsewhere": ({}, ("--api-url", "https://{host}/wrong-prefix", "--no-verify")),
    "api-url-of-the-server": ({}, ("--api-url", "https://{host}/nexla-api")),
}


def comparable(config_dir: Path) -> dict:
    """The store, checked to be laid out as the CLI writes it."""
    raw = store_path(config_dir).read_bytes()
    data = json.loads(raw)
    assert raw == (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()
    return data


def assert_same_store(seeded: Path, configured: Path) -> None:
    """Equal, but for the moments they were written (the CLI's run takes a little while)."""
    mine, theirs = comparable(seeded), comparable(configured)
    for name, env in mine["environments"].items():
        session, other = env.get("session"), theirs["environments"][name].get("session")
        if session and other:
            obtained, other_obtained = session.pop("obtained_at"), other.pop("obtained_at")
            assert abs(obtained - other_obtained) <= 2
            expires, other_expires = session.pop("expires_at"), other.pop("expires_at")
            if session["expires_estimated"]:  # an hour from when it was pasted
                assert expires - obtained == other_expires - other_obtained
            else:  # a JWT's own expiry: the same instant
                assert expires == other_expires
    assert mine == theirs


def layout(config_dir: Path) -> dict[str, int]:
    """Each file in the config directory (and the directory, as ".") and its mode."""
    modes = {".": stat.S_IMODE(os.stat(config_dir).st_mode)}
    for path in config_dir.iterdir():
        modes[path.name] = stat.S_IMODE(path.stat().st_mode)
    return modes


def configure_and_seed(nx, seeded: Path, token: str, extra: tuple[str, ...], name=None):
    name = name or nx.server.host
    nx.ok("env", "configure", name, "--with-token", *extra, input=token + "\n")
    api_url, verify = configure_options(extra)
    seed_pasted_token(seeded, nx.server, token, name, api_url=api_url, verify=verify)


@pytest.mark.parametrize("issue, extra", CASES.values(), ids=CASES.keys())
def test_seeding_writes_what_configure_writes(nx, issue, extra):
    extra = tuple(part.format(host=nx.server.host) for part in extra)
    seeded = nx.tmp_path / "seeded"
    configure_and_seed(nx, seeded, nx.server.issue_token(**issue), extra)
    assert_same_store(seeded, nx.config_dir)
    assert layout(seeded) == layout(nx.config_dir) == {
        ".": 0o700,
        "credentials.json": 0o600,
        "credentials.json.lock": 0o600,
    }


def test_seeding_into_a_store_keeps_the_others_as_configure_does(nx):
    seeded = nx.tmp_path / "seeded"
    configure_and_seed(nx, seeded, nx.server.issue_token(), ())
    other = second_name(nx)
    configure_and_seed(nx, seeded, nx.server.issue_token(), ("--api-url", nx.server.api_url), other)
    # Again, to an environment that exists: its session is replaced, the other kept.
    configure_and_seed(nx, seeded, nx.server.issue_token(jwt=True), ())
    assert_same_store(seeded, nx.config_dir)
    data = comparable(seeded)
    assert data["current"] == nx.server.host and set(data["environments"]) == {
        nx.server.host,
        other,
    }


def test_seeding_an_environment_keeps_its_api_url_unless_given(nx):
    seeded = nx.tmp_path / "seeded"
    wrong = ("--api-url", f"https://{nx.server.host}/wrong-prefix", "--no-verify")
    configure_and_seed(nx, seeded, "tok-first", wrong)
    configure_and_seed(nx, seeded, "tok-second", ("--no-verify",))
    assert_same_store(seeded, nx.config_dir)
    stored = comparable(seeded)["environments"][nx.server.host]
    assert stored["api_url"].endswith("/wrong-prefix")


def test_seeding_sends_nothing_and_refuses_what_configure_would(nx):
    seed_pasted_token(nx.config_dir, nx.server, nx.server.issue_token())
    assert nx.server.count() == 0
    dead = nx.server.issue_token()
    nx.server.invalidate(dead)
    with pytest.raises(AssertionError):
        seed_pasted_token(nx.tmp_path / "dead", nx.server, dead)
    with pytest.raises(ValueError):
        configure_options(("--save-key",))


def test_sign_in_seeds_the_servers_environment(nx):
    token = nx.sign_in()
    assert nx.server.issued == [token] and nx.server.count() == 0
    shown = nx.ok("token", "print")
    assert shown.stdout == token + "\n"

    again = nx.sign_in_with_cli(token)
    assert again == token and nx.server.count("GET", "/users/current") == 1
