"""The hidden prompt reads without the terminal's line editing (docs/signing-in.md, "At the
prompt"): no terminal line limit cuts a paste (Linux keeps 4095 bytes of a typed line,
macOS 1024), erase and kill-line still work, nothing is echoed, and Ctrl-C leaves the
terminal as it was. A real pseudo-terminal, as only one has a line limit."""

import pytest

from tests.support.stores import store_path, stored_session
from tests.support.terminals import Terminal

TOKEN_PROMPT = "Enter ACCESS TOKEN:"
KEY_PROMPT = "Enter SERVICE KEY:"


def _at_prompt(nx, *args, prompt=TOKEN_PROMPT):
    term = Terminal(nx, *args)
    term.expect(prompt)
    return term


# a real terminal
@pytest.mark.parametrize("length", [5000, 16 * 1024])
def test_a_paste_longer_than_a_terminal_line_is_taken_whole(nx, length):
    # Linux's terminal would keep 4095 characters of this line (macOS's 1024) and drop the
    # rest, Enter included. The fake server refuses the text, but it arrives whole.
    pasted = "n" * length
    term = _at_prompt(nx, "env", "configure", nx.server.host, "--no-browser")
    term.type(pasted)
    term.expect("error: the token was rejected")
    assert term.finish() == 4
    assert nx.server.last("GET", "/users/current").authorization == "Bearer " + pasted
    assert pasted[:100] not in term.output  # never echoed


# a real terminal
def test_a_paste_longer_than_16_kib_is_refused_without_reading_on(nx):
    term = _at_prompt(nx, "env", "configure", nx.server.host, "--no-browser")
    term.child.send("n" * (16 * 1024 + 100))
    term.expect("longer than 16 KiB")
    term.expect(f"hint: pipe it in: nexla env configure {nx.server.host} --with-token")
    assert term.finish() == 2
    assert nx.server.count() == 0
    assert not store_path(nx.config_dir).exists()


# a real terminal
def test_erase_and_kill_line_edit_the_hidden_line_and_nothing_is_echoed(nx):
    token = nx.server.issue_token()
    term = _at_prompt(nx, "env", "configure", nx.server.host, "--no-browser")
    # Something wrong, then kill-line (Ctrl-U); the token with two stray characters, then
    # erase (DEL, the terminal's erase character) twice.
    term.child.send("typed-by-mistake\x15")
    term.child.send(token + "xy\x7f\x7f")
    term.child.send("\r")
    term.expect(f"Signed in to {nx.server.host}")
    assert term.finish() == 0
    assert stored_session(nx)["access_token"] == token
    assert token not in term.output
    assert "typed-by-mistake" not in term.output
    assert nx.server.last("GET", "/users/current").authorization == f"Bearer {token}"


# a real terminal
def test_a_long_service_key_at_its_prompt_is_taken_whole(nx):
    key = "svc-" + "k" * 5000
    nx.server.add_service_key(key)
    term = _at_prompt(nx, "token", "from-key", "--env", nx.server.host, prompt=KEY_PROMPT)
    term.type(key)
    term.expect("Minted")
    assert term.finish() == 0
    assert nx.server.last("POST", "/token").authorization == f"Basic {key}"
    assert key[:100] not in term.output


# a real terminal
def test_ctrl_c_in_the_middle_of_a_line_exits_130_and_restores_the_terminal(nx):
    term = Terminal(
        nx,
        "env",
        "configure",
        nx.server.host,
        "--no-browser",
        script="trap 'true' INT; {nexla}; echo exit=$?; stty -a",
    )
    term.expect(TOKEN_PROMPT)
    term.child.send("half-a-token")
    term.child.sendintr()
    term.expect("exit=130")
    assert term.finish() == 0
    settings = term.output.split("exit=130", 1)[1].split()
    for flag in ("icanon", "echo", "isig"):
        assert flag in settings and f"-{flag}" not in settings, flag
    assert "half-a-token" not in term.output
    assert nx.server.count() == 0
