"""A token given on stdin (`--with-token`) that is not one is named for what it looks like
(docs/signing-in.md, "Step by step" and "What each failure means"): a URL is refused before
anything is sent, quotes around a token are dropped, and a rejected token's hint names
`nexla token from-key` for a service key. The prompt at a real terminal is in
tests/e2e/test_pasted_token.py."""

import pytest

from tests.support.stores import store_path, stored_session


@pytest.mark.parametrize("command", [["env", "configure", "HOST"], ["env", "login"]])
def test_a_url_on_stdin_is_refused_before_anything_is_sent(nx, command):
    if command[-1] == "login":
        nx.sign_in()
    before = store_path(nx.config_dir).read_bytes() if command[-1] == "login" else None
    args = [nx.server.host if word == "HOST" else word for word in command]
    page = f"https://{nx.server.host}/token"
    run = nx.fails(2, *args, "--with-token", input=page + "\n")
    assert run.stderr.splitlines()[-2:] == [
        "error: a URL was given on stdin instead of the token; nothing was sent",
        f"hint: open {page} and copy the token the page shows, not an address",
    ]
    assert nx.server.count() == 0
    if before is None:
        assert not store_path(nx.config_dir).exists()
    else:
        assert store_path(nx.config_dir).read_bytes() == before


@pytest.mark.parametrize("quote", ["'", '"'])
def test_quotes_around_a_piped_token_are_dropped(nx, quote):
    token = nx.server.issue_token()
    nx.ok("env", "configure", nx.server.host, "--with-token", input=f"{quote}{token}{quote}\n")
    assert nx.server.last("GET", "/users/current").authorization == f"Bearer {token}"
    assert stored_session(nx)["access_token"] == token


def test_a_quote_at_one_end_only_is_refused_before_anything_is_sent(nx):
    token = nx.server.issue_token()
    run = nx.fails(2, "env", "configure", nx.server.host, "--with-token", input=f"'{token}\n")
    assert "error: the token given on stdin has a quote mark at one end only" in run.stderr
    assert nx.server.count() == 0
    assert not store_path(nx.config_dir).exists()


def test_a_service_key_given_as_the_token_is_rejected_with_the_from_key_hint(nx):
    key = "a-service-key-0123456789"
    nx.server.add_service_key(key)
    host = nx.server.host
    run = nx.fails(4, "env", "configure", host, "--with-token", input=key + "\n")
    assert run.stderr.splitlines()[-2:] == [
        f"error: the token was rejected by {host}; nothing was saved",
        f"hint: copy a fresh token from https://{host}/token; a service key is not a token: "
        f"sign in with it by `nexla token from-key --env {host}`",
    ]
    assert nx.server.count("GET", "/users/current") == 1
    assert not store_path(nx.config_dir).exists()
