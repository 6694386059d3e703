"""`nexla env configure` and `nexla env login` at a real terminal (a pseudo-terminal driven
with pexpect): the prompts, the browser, the hidden token, and Ctrl-C at every prompt."""

import io
import os
import shlex
import signal
import stat
import time

import pexpect
import pytest

from tests.support.processes import nexla_executable
from tests.support.signing_in import second_name, seed_configured
from tests.support.stores import read_store, store_bytes, store_path, stored_session
from tests.support.terminals import Terminal, close_ended

HOST_PROMPT = "NEXLA Environment (ex:dataops.nexla.io):"
LINK_LINE = "If your browser didn't open, please go to the following link:"
TOKEN_PROMPT = "Enter ACCESS TOKEN:"


def token_page(nx, name=None):
    return f"https://{name or nx.server.host}/token"


def opened(nx, count=1, timeout=15.0):
    """The URLs the fake browser was started on, once `count` are logged: it runs in the
    background and is never waited for, so its log may trail the command a little."""
    deadline = time.monotonic() + timeout
    while len(nx.browser_log()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return nx.browser_log()


# a real terminal
def test_configure_prompts_opens_the_browser_and_hides_the_token(nx):
    token = nx.server.issue_token()
    term = Terminal(nx, "env", "configure")
    term.expect(HOST_PROMPT)
    term.type(f"https://{nx.server.host}/")
    term.expect(LINK_LINE)
    term.expect(token_page(nx))
    term.expect(TOKEN_PROMPT)
    term.type(token)
    term.expect(f"Signed in to {nx.server.host} as Ada Lovelace")
    assert term.finish() == 0

    assert token not in term.output  # never echoed, never printed
    assert "Available Environments:" not in term.output  # none yet: no empty list
    assert opened(nx) == [token_page(nx)]
    assert nx.server.count() == 1
    assert nx.server.last("GET", "/users/current").authorization == f"Bearer {token}"
    data = read_store(nx.config_dir)
    assert data["current"] == nx.server.host
    session = data["environments"][nx.server.host]["session"]
    assert session["access_token"] == token
    assert session["source"] == "pasted"


# a real terminal
def test_configure_with_host_skips_the_list_and_the_host_prompt(nx):
    other = second_name(nx)
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    token = nx.server.issue_token()
    term = Terminal(nx, "env", "configure", other)
    term.expect(TOKEN_PROMPT)
    term.type(token)
    assert term.finish() == 0
    assert HOST_PROMPT not in term.output
    assert "Available Environments:" not in term.output
    assert token not in term.output
    assert opened(nx) == [token_page(nx, other)]
    assert read_store(nx.config_dir)["current"] == other


# a real terminal
def test_no_browser_prints_the_link_and_opens_nothing(nx):
    token = nx.server.issue_token()
    term = Terminal(nx, "env", "configure", nx.server.host, "--no-browser")
    term.expect(LINK_LINE)
    term.expect(token_page(nx))
    term.expect(TOKEN_PROMPT)
    term.type(token)
    assert term.finish() == 0
    assert nx.browser_log() == []
    assert token not in term.output
    assert stored_session(nx)["access_token"] == token


# a real terminal
def test_no_display_and_no_browser_variable_only_prints_the_link(nx):
    env = nx.env_with(BROWSER=None, DISPLAY=None, WAYLAND_DISPLAY=None)
    term = Terminal(nx, "env", "configure", nx.server.host, env=env)
    term.expect(LINK_LINE)
    term.expect(token_page(nx))
    term.expect(TOKEN_PROMPT)
    term.type(nx.server.issue_token())
    assert term.finish() == 0
    assert nx.browser_log() == []


# a real terminal
def test_with_token_at_a_terminal_reads_it_hidden_without_browser_or_link(nx):
    token = nx.server.issue_token()
    term = Terminal(nx, "env", "configure", nx.server.host, "--with-token")
    term.expect(TOKEN_PROMPT)
    term.type(token)
    assert term.finish() == 0
    assert token not in term.output
    assert LINK_LINE not in term.output
    assert token_page(nx) not in term.output
    assert nx.browser_log() == []
    assert stored_session(nx)["access_token"] == token


# a real terminal
def test_login_prompts_and_keeps_the_current_environment(nx):
    other = second_name(nx)
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    seed_configured(nx, other, nx.server.issue_token())
    kept = read_store(nx.config_dir)["environments"][other]
    token = nx.server.issue_token()
    term = Terminal(nx, "env", "login", "--env", nx.server.host)
    term.expect(f"Signing in to {nx.server.host} (the current environment stays {other}).")
    term.expect(LINK_LINE)
    term.expect(token_page(nx))
    term.expect(TOKEN_PROMPT)
    term.type(token)
    assert term.finish() == 0
    assert token not in term.output
    assert "Current Environment:" not in term.output  # it is not the current one
    assert opened(nx) == [token_page(nx)]
    data = read_store(nx.config_dir)
    assert data["current"] == other
    assert data["environments"][nx.server.host]["session"]["access_token"] == token
    assert data["environments"][other] == kept
    assert "Available Environments:" not in term.output


# a real terminal
def test_prompts_go_to_the_terminal_and_stdout_stays_clean(nx, tmp_path):
    # stdout redirected to a file: the prompts still reach the person at the terminal.
    out = tmp_path / "stdout.txt"
    term = Terminal(nx, "env", "configure", script="exec {nexla} > " + shlex.quote(str(out)))
    term.expect(HOST_PROMPT)
    term.type(nx.server.host)
    term.expect(TOKEN_PROMPT)
    term.type(nx.server.issue_token())
    assert term.finish() == 0
    assert out.read_text() == ""


# a real terminal
def test_an_empty_line_at_the_token_prompt_asks_again(nx):
    # Enter pressed before pasting: the prompt comes back and the paste that follows counts.
    token = nx.server.issue_token()
    term = Terminal(nx, "env", "configure", nx.server.host)
    term.expect(TOKEN_PROMPT)
    term.type("")
    term.expect("No token entered; paste it and press Enter (2 more tries).")
    term.expect(TOKEN_PROMPT)
    term.type(token)
    term.expect(f"Signed in to {nx.server.host} as Ada Lovelace")
    assert term.finish() == 0
    assert token not in term.output
    assert stored_session(nx)["access_token"] == token


# a real terminal
def test_three_empty_lines_at_the_token_prompt_are_a_usage_error(nx):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    before = store_bytes(nx.config_dir)
    nx.server.clear_log()
    term = Terminal(nx, "env", "login")
    for _ in range(3):
        term.expect(TOKEN_PROMPT)
        term.type("")
    term.expect("error: no token entered: nothing was changed")
    term.expect("hint: pipe it in: nexla env login --env")
    assert term.finish() == 2
    assert term.output.count(TOKEN_PROMPT) == 3
    assert store_bytes(nx.config_dir) == before
    assert nx.server.count() == 0


# a real terminal
def test_end_of_input_at_the_token_prompt_is_a_usage_error(nx):
    term = Terminal(nx, "env", "configure", nx.server.host)
    term.expect(TOKEN_PROMPT)
    term.child.sendeof()
    assert term.finish() == 2
    assert not store_path(nx.config_dir).exists()


# a real terminal
def test_plain_http_typed_at_the_host_prompt_is_refused(nx):
    term = Terminal(nx, "env", "configure")
    term.expect(HOST_PROMPT)
    term.type(f"http://{nx.server.host}")
    term.expect("error: ")
    assert term.finish() == 2
    assert TOKEN_PROMPT not in term.output
    assert nx.server.count() == 0
    assert nx.browser_log() == []
    assert not store_path(nx.config_dir).exists()


# a real terminal
def test_login_of_the_current_environment_names_it_and_a_rejected_token_saves_nothing(nx):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    before = store_bytes(nx.config_dir)
    term = Terminal(nx, "env", "login")
    term.expect(f"Current Environment: {nx.server.host}")
    term.expect(TOKEN_PROMPT)
    term.type("tok-rejected-by-the-server")
    term.expect("error: ")
    assert term.finish() == 4
    assert "tok-rejected-by-the-server" not in term.output
    assert store_bytes(nx.config_dir) == before


# a real terminal
@pytest.mark.parametrize(
    ("args", "prompts"),
    [
        (("env", "configure"), [HOST_PROMPT]),
        (("env", "configure"), [HOST_PROMPT, TOKEN_PROMPT]),
        (("env", "configure", "{host}"), [TOKEN_PROMPT]),
        (("env", "login"), [TOKEN_PROMPT]),
    ],
    ids=["configure-host", "configure-token", "configure-with-host-token", "login-token"],
)
def test_ctrl_c_at_each_prompt_exits_130_and_changes_nothing(nx, args, prompts):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    before = store_bytes(nx.config_dir)
    files_before = sorted(path.name for path in nx.config_dir.iterdir())
    nx.server.clear_log()
    args = [arg.format(host=nx.server.host) for arg in args]
    term = Terminal(nx, *args)
    for prompt in prompts[:-1]:
        term.expect(prompt)
        term.type(second_name(nx))
    term.expect(prompts[-1])
    term.child.sendintr()
    assert term.finish() == 130
    assert "Traceback" not in term.output
    assert store_bytes(nx.config_dir) == before
    assert sorted(path.name for path in nx.config_dir.iterdir()) == files_before
    assert nx.server.count() == 0


# a real terminal
def test_the_terminal_echoes_again_after_a_hidden_prompt_is_interrupted(nx):
    # After Ctrl-C at the token prompt the terminal must not be left with echo off. The
    # shell traps SIGINT (its child still gets the default) and then reports the terminal.
    term = Terminal(
        nx,
        "env",
        "configure",
        nx.server.host,
        script="trap 'true' INT; {nexla}; echo exit=$?; stty -a",
    )
    term.expect(TOKEN_PROMPT)
    term.child.sendintr()
    term.expect("exit=130")
    assert term.finish() == 0
    settings = term.output.split("exit=130", 1)[1].split()
    assert "echo" in settings
    assert "-echo" not in settings


# The hidden prompt at a real terminal (docs/signing-in.md, "Guarantees") -----------------


# a real terminal
def test_the_token_stays_hidden_after_ctrl_z_and_fg(nx):
    # A job-control shell, as a person has: Ctrl-Z stops nexla at the prompt, the shell takes
    # the terminal back (echo on), and `fg` resumes nexla, which must hide the input again.
    token = nx.server.issue_token()
    command = shlex.join([nexla_executable(), "env", "configure", nx.server.host, "--no-browser"])
    shell = pexpect.spawn(
        "bash",
        ["--norc", "--noprofile", "-i"],
        env={**nx.env, "PS1": "$ ", "TERM": "dumb", "INPUTRC": "/dev/null"},
        cwd=str(nx.tmp_path),
        encoding="utf-8",
        timeout=30,
        dimensions=(24, 200),
    )
    transcript = io.StringIO()
    shell.logfile_read = transcript
    shell.delaybeforesend = None  # as in Terminal
    try:
        shell.expect_exact("$ ")
        shell.sendline(command)
        shell.expect_exact(TOKEN_PROMPT)
        shell.sendcontrol("z")
        shell.expect("Stopped")
        shell.expect_exact("$ ")
        shell.sendline("fg")
        shell.expect_exact(TOKEN_PROMPT)  # shown again once echo is off again
        shell.sendline(token)
        shell.expect_exact(f"Signed in to {nx.server.host}")
        shell.expect_exact("$ ")
        shell.sendline("echo exit=$?")
        shell.expect_exact("exit=0")
        shell.sendline("exit")
        shell.expect(pexpect.EOF)
        close_ended(shell)
    finally:
        shell.close(force=True)
    after_fg = transcript.getvalue().split("fg", 1)[1]
    assert token not in after_fg, "the token was echoed after fg"
    assert stored_session(nx)["access_token"] == token


# a real terminal
def test_a_pasted_bearer_header_value_is_taken_as_the_token(nx):
    token = nx.server.issue_token()
    term = Terminal(nx, "env", "configure", nx.server.host, "--no-browser")
    term.expect(TOKEN_PROMPT)
    term.type("Bearer " + token)
    assert term.finish() == 0
    assert nx.server.last("GET", "/users/current").authorization == f"Bearer {token}"
    assert stored_session(nx)["access_token"] == token


# The browser --------------------------------------------------------------------------


def _script(directory, name, body):
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _text_browsers(nx):
    """Fake text-mode browsers on a PATH of their own; returns (bin dir, log of runs)."""
    bin_dir = nx.tmp_path / "textbin"
    log = nx.tmp_path / "text-browser.log"
    for name in ("www-browser", "links", "elinks", "lynx", "w3m"):
        _script(bin_dir, name, f'printf \'%s %s\\n\' "$0" "$1" >> {shlex.quote(str(log))}\n')
    return bin_dir, log


# a real terminal
def test_a_failing_browser_variable_never_falls_through_to_a_text_browser(nx):
    bin_dir, text_log = _text_browsers(nx)
    failing = _script(
        nx.tmp_path / "bin",
        "failing-browser",
        f"printf '%s\\n' \"$1\" >> {shlex.quote(str(nx.env.browser_log))}\nexit 3\n",
    )
    env = nx.env_with(
        BROWSER=str(failing),
        DISPLAY=None,
        WAYLAND_DISPLAY=None,
        TERM="xterm",
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    )
    term = Terminal(nx, "env", "configure", nx.server.host, env=env)
    term.expect(LINK_LINE)
    term.expect(token_page(nx))
    term.expect(TOKEN_PROMPT)
    assert opened(nx) == [token_page(nx)]  # the failing browser has run and failed
    term.type(nx.server.issue_token())
    assert term.finish() == 0
    assert not text_log.exists(), text_log.read_text()


# a real terminal
def test_with_a_display_but_no_graphical_browser_no_text_browser_starts(nx):
    bin_dir, text_log = _text_browsers(nx)
    env = nx.env_with(BROWSER=None, DISPLAY=":99", TERM="xterm", PATH=str(bin_dir))
    term = Terminal(nx, "env", "configure", nx.server.host, env=env)
    term.expect(LINK_LINE)
    term.expect(token_page(nx))
    term.expect(TOKEN_PROMPT)
    term.type(nx.server.issue_token())
    assert term.finish() == 0
    time.sleep(0.5)  # a launcher started in the background would have logged by now
    assert not text_log.exists(), text_log.read_text()


# a real terminal
def test_with_a_display_the_graphical_launcher_opens_the_token_page(nx):
    bin_dir = nx.tmp_path / "guibin"
    _script(
        bin_dir, "xdg-open", f"printf '%s\\n' \"$1\" >> {shlex.quote(str(nx.env.browser_log))}\n"
    )
    env = nx.env_with(BROWSER=None, DISPLAY=":99", PATH=str(bin_dir))
    term = Terminal(nx, "env", "configure", nx.server.host, env=env)
    term.expect(TOKEN_PROMPT)
    term.type(nx.server.issue_token())
    assert term.finish() == 0
    assert opened(nx) == [token_page(nx)]


# a real terminal
def test_a_browser_that_never_exits_does_not_hold_up_the_prompt(nx):
    pid_file = nx.tmp_path / "browser.pid"
    hanging = _script(
        nx.tmp_path / "bin",
        "hanging-browser",
        f"echo $$ > {shlex.quote(str(pid_file))}\nexec sleep 120\n",
    )
    token = nx.server.issue_token()
    term = Terminal(nx, "env", "configure", nx.server.host, env=nx.env_with(BROWSER=str(hanging)))
    try:
        term.child.expect_exact(TOKEN_PROMPT, timeout=15)
        term.type(token)
        assert term.finish() == 0
        deadline = time.monotonic() + 15
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        pid = int(pid_file.read_text())
        os.kill(pid, 0)  # still running: it was never waited for
    finally:
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
    assert stored_session(nx)["access_token"] == token


# a real terminal
def test_what_a_browser_prints_reaches_neither_stdout_nor_the_terminal(nx, tmp_path):
    chatty = _script(
        nx.tmp_path / "bin",
        "chatty-browser",
        "echo BROWSER-SAYS-OUT\necho BROWSER-SAYS-ERR >&2\n"
        f"printf '%s\\n' \"$1\" >> {shlex.quote(str(nx.env.browser_log))}\n",
    )
    out = tmp_path / "out.txt"
    term = Terminal(
        nx,
        "env",
        "configure",
        nx.server.host,
        env=nx.env_with(BROWSER=str(chatty)),
        script="exec {nexla} > " + shlex.quote(str(out)),
    )
    term.expect(TOKEN_PROMPT)
    assert opened(nx) == [token_page(nx)]  # it has printed by now
    term.type(nx.server.issue_token())
    assert term.finish() == 0
    assert out.read_text() == ""
    assert "BROWSER-SAYS" not in term.output


# Checks before the browser opens --------------------------------------------------------


# a real terminal
def test_a_host_typo_at_the_prompt_stops_before_the_browser(nx):
    term = Terminal(nx, "env", "configure")
    term.expect(HOST_PROMPT)
    term.type(f"localhsot:{nx.server.port}")
    term.expect("error: cannot find the host localhsot")
    term.expect("hint: check the name for a typo")
    assert term.finish() == 5
    assert TOKEN_PROMPT not in term.output
    assert LINK_LINE not in term.output
    time.sleep(0.3)
    assert nx.browser_log() == []
    assert nx.server.count() == 0
    assert not store_path(nx.config_dir).exists()


# a real terminal
def test_behind_a_proxy_the_host_is_not_looked_up_locally(nx):
    # The proxy resolves names the local resolver may not know: the prompt still appears.
    env = nx.env_with(HTTPS_PROXY="http://127.0.0.1:9")
    term = Terminal(nx, "env", "configure", "intranet-only.invalid", env=env)
    term.expect(TOKEN_PROMPT)
    term.child.sendintr()
    assert term.finish() == 130
    assert opened(nx) == ["https://intranet-only.invalid/token"]


# a real terminal
def test_a_missing_ca_bundle_stops_before_the_browser(nx):
    env = nx.env_with(REQUESTS_CA_BUNDLE="/nonexistent.pem")
    term = Terminal(nx, "env", "configure", nx.server.host, env=env)
    term.expect("error: the CA bundle named by REQUESTS_CA_BUNDLE does not exist: /nonexistent.pem")
    assert term.finish() == 2
    assert TOKEN_PROMPT not in term.output
    time.sleep(0.3)
    assert nx.browser_log() == []
