"""At a real terminal, `env configure` connects to the API's host and port before the browser
opens (docs/signing-in.md, "Checks before the browser"); not behind a proxy, and not with
--no-verify, which sends nothing."""

import time

from tests.support.ports import closed_port
from tests.support.stores import store_path, stored_session
from tests.support.terminals import Terminal

TOKEN_PROMPT = "Enter ACCESS TOKEN:"
LINK_LINE = "If your browser didn't open, please go to the following link:"


# a real terminal
def test_a_refused_port_stops_before_the_browser_and_the_prompt(nx):
    port = closed_port()
    term = Terminal(nx, "env", "configure", f"localhost:{port}")
    term.expect(f"error: cannot connect to localhost:{port}: connection refused")
    term.expect("hint: check the host name and port")
    assert term.finish() == 5
    assert TOKEN_PROMPT not in term.output
    assert LINK_LINE not in term.output
    time.sleep(0.3)  # a browser would be started in the background
    assert nx.browser_log() == []
    assert not store_path(nx.config_dir).exists()


# a real terminal
def test_behind_a_proxy_the_port_is_not_tried_locally(nx):
    env = nx.env_with(HTTPS_PROXY="http://127.0.0.1:9")
    term = Terminal(nx, "env", "configure", f"localhost:{closed_port()}", env=env)
    term.expect(TOKEN_PROMPT)
    term.child.sendintr()
    assert term.finish() == 130


# a real terminal
def test_no_verify_signs_in_without_connecting(nx):
    # --no-verify is for an API that cannot be reached from here: nothing is tried.
    name = f"localhost:{closed_port()}"
    term = Terminal(nx, "env", "configure", name, "--no-browser", "--no-verify")
    term.expect(TOKEN_PROMPT)
    term.type("a-token-checked-later")
    assert term.finish() == 0
    assert stored_session(nx, name)["access_token"] == "a-token-checked-later"
