"""Before the browser opens, `env configure` and `env login` connect to the API's host and
port (docs/signing-in.md, "Checks before the browser"): a refusing or silent port is exit 5
with no browser, no prompt and nothing stored. At a terminal only, where the browser opens;
a piped token goes straight to the request."""

import time

from nexla_cli.core.runtime import Timing
from tests.support.inprocess import run_in_process
from tests.support.ports import closed_port, silent_port
from tests.support.stores import store_path, write_store

PROMPT = "Enter ACCESS TOKEN:"


def at_a_terminal(nx, *args, timing=None):
    """`nexla ARGS` in-process with stdin flagged a terminal (and nothing typed)."""
    return run_in_process(
        [*args],
        env=nx.env,
        cwd=nx.tmp_path,
        stdin_tty=True,
        timing=timing or Timing(retry_backoff=0.0),
    )


def assert_stopped_before_the_browser(nx, run):
    assert run.returncode == 5, run.stderr
    assert PROMPT not in run.stderr
    assert "please go to the following link" not in run.stderr
    assert nx.browser_log() == []
    assert nx.server.count() == 0


def test_a_refused_port_stops_configure_before_the_browser(nx):
    port = closed_port()
    run = at_a_terminal(nx, "env", "configure", f"localhost:{port}")
    assert_stopped_before_the_browser(nx, run)
    lines = run.stderr.splitlines()
    assert lines[0] == (
        f"error: cannot connect to localhost:{port}: connection refused; no browser was "
        "opened and nothing was sent"
    )
    assert lines[1].startswith("hint: check the host name and port")
    assert not store_path(nx.config_dir).exists()


def test_the_api_host_is_connected_to_not_the_ui_host(nx):
    port = closed_port()
    api_url = f"https://127.0.0.1:{port}/nexla-api"
    run = at_a_terminal(nx, "env", "configure", nx.server.host, "--api-url", api_url)
    assert_stopped_before_the_browser(nx, run)
    assert f"cannot connect to 127.0.0.1:{port}: connection refused" in run.stderr


def test_a_port_that_never_answers_stops_within_the_bound(nx):
    with silent_port() as port:
        started = time.monotonic()
        run = at_a_terminal(
            nx,
            "env",
            "configure",
            f"127.0.0.1:{port}",
            timing=Timing(retry_backoff=0.0, api_connect=0.5),
        )
        took = time.monotonic() - started
    assert_stopped_before_the_browser(nx, run)
    assert f"cannot connect to 127.0.0.1:{port}: no answer within 0.5s" in run.stderr
    assert 0.5 <= took < 3
    assert not store_path(nx.config_dir).exists()


def test_login_connects_to_the_stored_api_url_first(nx):
    port = closed_port()
    name = "localhost"  # resolves; its API is stored elsewhere
    stored = write_store(
        nx.config_dir,
        {name: {"api_url": f"https://127.0.0.1:{port}/nexla-api", "session": None}},
        name,
    )
    run = at_a_terminal(nx, "env", "login")
    assert_stopped_before_the_browser(nx, run)
    assert f"cannot connect to 127.0.0.1:{port}: connection refused" in run.stderr
    assert store_path(nx.config_dir).read_bytes() == stored
