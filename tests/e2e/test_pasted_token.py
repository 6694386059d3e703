"""What is pasted at `Enter ACCESS TOKEN:` at a real terminal, when it is not a bare token
(docs/signing-in.md, "Step by step" and "What each failure means")."""

from tests.support.stores import store_path, stored_session
from tests.support.terminals import Terminal

TOKEN_PROMPT = "Enter ACCESS TOKEN:"


# a real terminal
def test_a_pasted_url_is_refused_before_anything_is_sent(nx):
    page = f"https://{nx.server.host}/token"
    term = Terminal(nx, "env", "configure", nx.server.host, "--no-browser")
    term.expect(TOKEN_PROMPT)
    term.type(page)
    term.expect("error: a URL was pasted instead of the token; nothing was sent")
    term.expect(f"hint: open {page} and copy the token the page shows, not an address")
    assert term.finish() == 2
    assert page not in term.output.split(TOKEN_PROMPT, 1)[1].split("hint:")[0]  # not echoed
    assert nx.server.count() == 0
    assert not store_path(nx.config_dir).exists()


# a real terminal
def test_a_pasted_token_in_quotes_is_taken_without_them(nx):
    token = nx.server.issue_token()
    term = Terminal(nx, "env", "configure", nx.server.host, "--no-browser")
    term.expect(TOKEN_PROMPT)
    term.type(f'"{token}"')
    assert term.finish() == 0
    assert nx.server.last("GET", "/users/current").authorization == f"Bearer {token}"
    assert stored_session(nx)["access_token"] == token


# a real terminal
def test_a_pasted_service_key_is_rejected_with_the_from_key_hint(nx):
    key = "a-service-key-0123456789"
    nx.server.add_service_key(key)
    term = Terminal(nx, "env", "configure", nx.server.host, "--no-browser")
    term.expect(TOKEN_PROMPT)
    term.type(key)
    term.expect(f"error: the token was rejected by {nx.server.host}; nothing was saved")
    term.expect(f"`nexla token from-key --env {nx.server.host}`")
    assert term.finish() == 4
    assert not store_path(nx.config_dir).exists()
