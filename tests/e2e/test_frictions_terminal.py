"""The host prompt of `nexla env configure` at a real terminal (docs/signing-in.md, "The
host"): the environments are listed only when the host is asked for, and Enter before
typing one asks again, three tries, as the token prompt does."""

from __future__ import annotations

from tests.support.signing_in import second_name, seed_configured
from tests.support.stores import read_store
from tests.support.terminals import Terminal

HOST_PROMPT = "NEXLA Environment (ex:dataops.nexla.io):"
TOKEN_PROMPT = "Enter ACCESS TOKEN:"


# a real terminal
def test_the_environments_are_listed_when_the_host_is_asked_for(nx):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    term = Terminal(nx, "env", "configure", "--no-browser")
    term.expect("Available Environments:")
    term.expect(f"- {nx.server.host} *")
    term.expect(HOST_PROMPT)
    term.type(second_name(nx))
    term.expect(TOKEN_PROMPT)
    term.type(nx.server.issue_token())
    assert term.finish() == 0
    assert read_store(nx.config_dir)["current"] == second_name(nx)


# a real terminal
def test_enter_at_the_host_prompt_asks_again(nx):
    token = nx.server.issue_token()
    term = Terminal(nx, "env", "configure", "--no-browser")
    term.expect(HOST_PROMPT)
    term.type("")
    term.expect("No environment entered; type its host and press Enter (2 more tries).")
    term.expect(HOST_PROMPT)
    term.type("  ")
    term.expect("No environment entered; type its host and press Enter (1 more try).")
    term.expect(HOST_PROMPT)
    term.type(nx.server.host)
    term.expect(TOKEN_PROMPT)
    term.type(token)
    term.expect(f"Signed in to {nx.server.host}")
    assert term.finish() == 0
    assert (
        read_store(nx.config_dir)["environments"][nx.server.host]["session"]["access_token"]
        == token
    )


# a real terminal
def test_three_empty_hosts_end_with_exit_2_and_nothing_stored(nx):
    term = Terminal(nx, "env", "configure", "--no-browser")
    for _ in range(3):
        term.expect(HOST_PROMPT)
        term.type("")
    term.expect("error: no environment entered: nothing was changed")
    assert term.finish() == 2
    assert TOKEN_PROMPT not in term.output
    assert not (nx.config_dir / "credentials.json").exists()
    assert nx.server.count() == 0
