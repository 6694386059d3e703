"""Messages as people read them: sentence case, plurals, words instead of stored ids
(docs/signing-in.md, "What the messages mean"; docs/scripting.md for `token status`)."""

from __future__ import annotations

import json

import pytest

from tests.support.signing_in import from_key, seed_configured
from tests.support.stores import stored_session


def test_a_session_reminted_from_the_saved_key_is_told_in_plain_words(nx):
    assert from_key(nx, "svc-key-9", "--save-key").returncode == 0
    nx.server.invalidate(stored_session(nx)["access_token"])
    result = nx.ok("token", "refresh")
    assert f"Minted the session for {nx.server.host}; it expires in" in result.stderr
    assert "a new the" not in result.stderr


def test_from_key_notes_are_sentences_like_the_others(nx):
    result = from_key(nx, "svc-key-1", "--save-key")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert f"Added environment {nx.server.host}." in lines
    notes = [line for line in lines if line and not line.startswith("warning:")]
    assert all(line[:1].isupper() for line in notes), notes


def test_login_and_use_say_current_environment_the_same_way(nx):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    login = nx.ok("env", "login", "--with-token", input=nx.server.issue_token() + "\n")
    use = nx.ok("env", "use", nx.server.host)
    expected = f"Current Environment: {nx.server.host}"
    assert expected in login.stderr.splitlines()
    assert expected in use.stderr.splitlines()


# How a session came to be, as stored, and as `token status` and `env show` say it.
SOURCES = [
    ("service_key", "service key"),
    ("pasted", "pasted"),
    ("refreshed", "refreshed"),
]


def _seed_source(nx, source: str) -> None:
    if source == "service_key":
        assert from_key(nx).returncode == 0
        return
    nx.sign_in()
    if source == "refreshed":
        nx.ok("token", "refresh")
    assert stored_session(nx)["source"] == source


@pytest.mark.parametrize("source, words", SOURCES)
def test_human_output_names_the_source_in_words_and_json_keeps_the_id(nx, source, words):
    _seed_source(nx, source)
    status = nx.ok("token", "status")
    assert f"  source: {words}" in status.stdout.splitlines()
    show = nx.ok("env", "show")
    assert any(line.split() == ["Source:", *words.split()] for line in show.stdout.splitlines()), (
        show.stdout
    )
    assert json.loads(nx.ok("token", "status", "--json").stdout)["source"] == source
    assert json.loads(nx.ok("env", "show", "--json").stdout)["source"] == source
