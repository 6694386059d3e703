"""The pure decisions behind the newcomer's frictions (tests/app/test_frictions.py is the
app tier): when a passed expiry may still be renewed, how one warning names every
environment whose server missed its logout, and how a timeout reports its attempts."""

from __future__ import annotations

import pytest

from nexla_cli.auth import environments, storedsessions
from nexla_cli.core.model import Session
from nexla_cli.http.client import timeout_note


def _session(**changes) -> Session:
    record = {
        "access_token": "tok-x",
        "token_type": "Bearer",
        "obtained_at": 0,
        "expires_at": 3600,
        "expires_estimated": True,
        "source": "pasted",
        "user": {},
        "org": None,
    }
    record.update(changes)
    return Session.from_dict(record)


@pytest.mark.parametrize(
    "changes, revives",
    [
        ({}, True),  # an estimated hour: the server decides
        ({"expires_estimated": False}, False),  # a JWT's own exp
        ({"expires_estimated": False, "source": "refreshed"}, False),  # the server's word
        ({"refresh_failure": {"at": 1, "kind": "rejected"}}, False),
        ({"refresh_failure": {"at": 1, "kind": "not_offered", "message": "404"}}, False),
        ({"refresh_failure": {"at": 1, "kind": "unreachable", "message": "down"}}, True),
    ],
)
def test_a_passed_expiry_may_be_revived_only_when_it_was_a_guess(changes, revives):
    assert storedsessions.refresh_may_revive(_session(**changes)) is revives


def test_the_environments_a_server_missed_are_grouped_by_reason():
    results = [
        environments.LoggedOut("a", True, "down"),
        environments.LoggedOut("b", True),
        environments.LoggedOut("c", False),
        environments.LoggedOut("d", True, "down"),
        environments.LoggedOut("e", True, "HTTP 500"),
    ]
    assert environments.not_told_by_reason(results) == {"down": ["a", "d"], "HTTP 500": ["e"]}


@pytest.mark.parametrize(
    "names, expected",
    [
        (
            ["a"],
            "could not log out of a on the server (down); forgot it locally, but the "
            "token stays valid on the server until it expires",
        ),
        (
            ["a", "b"],
            "could not log out of a, b on the server (down); forgot them locally, "
            "but their tokens stay valid on the server until they expire",
        ),
    ],
)
def test_one_warning_names_every_environment_the_server_missed(names, expected):
    assert environments.not_told_warning(names, "down") == expected


@pytest.mark.parametrize(
    "attempts, spent, connect, read, expected",
    [
        (1, 0.9, 0.5, 0.5, " (1 attempt, allowed 0.5 s to connect and 0.5 s to answer)"),
        (4, 11.2, 2, 2, " (4 attempts over 11 s, each allowed 2 s to connect and 2 s to answer)"),
        (
            4,
            163.0,
            10,
            30,
            " (4 attempts over 163 s, each allowed 10 s to connect and 30 s to answer)",
        ),
    ],
)
def test_a_timeout_reports_its_attempts(attempts, spent, connect, read, expected):
    assert timeout_note(attempts, spent, connect, read) == expected
