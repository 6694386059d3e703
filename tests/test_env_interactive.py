"""`nexla env configure` and `nexla env login` at a real terminal (a pseudo-terminal driven
with pexpect): the prompts, the browser, the hidden token, and Ctrl-C at every prompt."""

import io
import shlex

import pexpect
import pytest

from tests.conftest import nexla_executable
from tests.envtools import configure, read_store, second_name, store_bytes, store_path

HOST_PROMPT = "NEXLA Environment (ex:dataops.nexla.io):"
LINK_LINE = "If your browser didn't open, please go to the following link:"
TOKEN_PROMPT = "Enter ACCESS TOKEN:"


class Terminal:
    """`nexla ARGS` in a pseudo-terminal; everything it writes to the terminal is kept."""

    def __init__(self, nx, *args, env=None, script="exec {nexla}"):
        """`script` is the shell command line run in the terminal; {nexla} is the command."""
        self.transcript = io.StringIO()
        command = script.format(nexla=shlex.join([nexla_executable(), *args]))
        self.child = pexpect.spawn(
            "/bin/sh",
            ["-c", command],
            env=env or nx.env,
            cwd=str(nx.tmp_path),
            encoding="utf-8",
            timeout=30,
            dimensions=(24, 200),
        )
        self.child.logfile_read = self.transcript

    def expect(self, text):
        self.child.expect_exact(text)

    def type(self, line):
        self.child.sendline(line)

    def finish(self) -> int:
        self.child.expect(pexpect.EOF)
        self.child.close()
        assert self.child.signalstatus is None
        return self.child.exitstatus

    @property
    def output(self) -> str:
        return self.transcript.getvalue()


def token_page(nx, name=None):
    return f"https://{name or nx.server.host}/token"


def test_configure_prompts_opens_the_browser_and_hides_the_token(nx):
    token = nx.server.issue_token()
    term = Terminal(nx, "env", "configure")
    term.expect("Available Environments:")
    term.expect(HOST_PROMPT)
    term.type(f"https://{nx.server.host}/")
    term.expect(LINK_LINE)
    term.expect(token_page(nx))
    term.expect(TOKEN_PROMPT)
    term.type(token)
    term.expect(f"Signed in to {nx.server.host} as Ada Lovelace")
    assert term.finish() == 0

    assert token not in term.output  # never echoed, never printed
    assert nx.browser_log() == [token_page(nx)]
    assert nx.server.count() == 1
    assert nx.server.last("GET", "/users/current").authorization == f"Bearer {token}"
    data = read_store(nx)
    assert data["current"] == nx.server.host
    session = data["environments"][nx.server.host]["session"]
    assert session["access_token"] == token
    assert session["source"] == "pasted"


def test_configure_with_host_lists_environments_and_skips_the_host_prompt(nx):
    other = second_name(nx)
    configure(nx, nx.server.host, nx.server.issue_token())
    token = nx.server.issue_token()
    term = Terminal(nx, "env", "configure", other)
    term.expect("Available Environments:")
    term.expect(f"- {nx.server.host} *")
    term.expect(TOKEN_PROMPT)
    term.type(token)
    assert term.finish() == 0
    assert HOST_PROMPT not in term.output
    assert token not in term.output
    assert nx.browser_log() == [token_page(nx, other)]
    assert read_store(nx)["current"] == other


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
    assert read_store(nx)["environments"][nx.server.host]["session"]["access_token"] == token


def test_no_display_and_no_browser_variable_only_prints_the_link(nx):
    env = nx.env_with(BROWSER=None, DISPLAY=None, WAYLAND_DISPLAY=None)
    term = Terminal(nx, "env", "configure", nx.server.host, env=env)
    term.expect(LINK_LINE)
    term.expect(token_page(nx))
    term.expect(TOKEN_PROMPT)
    term.type(nx.server.issue_token())
    assert term.finish() == 0
    assert nx.browser_log() == []


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
    assert read_store(nx)["environments"][nx.server.host]["session"]["access_token"] == token


def test_login_prompts_and_keeps_the_current_environment(nx):
    other = second_name(nx)
    configure(nx, nx.server.host, nx.server.issue_token())
    configure(nx, other, nx.server.issue_token())
    kept = read_store(nx)["environments"][other]
    token = nx.server.issue_token()
    term = Terminal(nx, "env", "login", "--env", nx.server.host)
    term.expect(f"Current Environment: {nx.server.host}")
    term.expect(LINK_LINE)
    term.expect(token_page(nx))
    term.expect(TOKEN_PROMPT)
    term.type(token)
    assert term.finish() == 0
    assert token not in term.output
    assert nx.browser_log() == [token_page(nx)]
    data = read_store(nx)
    assert data["current"] == other
    assert data["environments"][nx.server.host]["session"]["access_token"] == token
    assert data["environments"][other] == kept
    assert "Available Environments:" not in term.output


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


def test_empty_token_at_the_prompt_is_a_usage_error(nx):
    configure(nx, nx.server.host, nx.server.issue_token())
    before = store_bytes(nx)
    nx.server.clear_log()
    term = Terminal(nx, "env", "login")
    term.expect(TOKEN_PROMPT)
    term.type("")
    term.expect("error: empty token")
    assert term.finish() == 2
    assert store_bytes(nx) == before
    assert nx.server.count() == 0


def test_end_of_input_at_the_token_prompt_is_a_usage_error(nx):
    term = Terminal(nx, "env", "configure", nx.server.host)
    term.expect(TOKEN_PROMPT)
    term.child.sendeof()
    assert term.finish() == 2
    assert not store_path(nx).exists()


def test_plain_http_typed_at_the_host_prompt_is_refused(nx):
    term = Terminal(nx, "env", "configure")
    term.expect(HOST_PROMPT)
    term.type(f"http://{nx.server.host}")
    term.expect("error: ")
    assert term.finish() == 2
    assert TOKEN_PROMPT not in term.output
    assert nx.server.count() == 0
    assert nx.browser_log() == []
    assert not store_path(nx).exists()


def test_a_rejected_token_at_the_prompt_saves_nothing(nx):
    configure(nx, nx.server.host, nx.server.issue_token())
    before = store_bytes(nx)
    term = Terminal(nx, "env", "login")
    term.expect(TOKEN_PROMPT)
    term.type("tok-rejected-by-the-server")
    term.expect("error: ")
    assert term.finish() == 4
    assert "tok-rejected-by-the-server" not in term.output
    assert store_bytes(nx) == before


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
    configure(nx, nx.server.host, nx.server.issue_token())
    before = store_bytes(nx)
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
    assert store_bytes(nx) == before
    assert sorted(path.name for path in nx.config_dir.iterdir()) == files_before
    assert nx.server.count() == 0


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
