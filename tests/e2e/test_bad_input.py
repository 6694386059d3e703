"""The e2e tier of tests/app/test_bad_input.py, whose docstring says what is promised: the cases
that need a real `nexla` process (a terminal, signals, several processes, what a fresh
interpreter loads)."""

from __future__ import annotations

import os
import signal
import subprocess

import pexpect
import pytest

from tests.support.fake_nexla import Fault
from tests.support.processes import nexla_executable
from tests.support.signing_in import seed
from tests.support.stores import read_store, store_bytes, without_memo
from tests.support.terminals import close_ended

USAGE, CONFIG = 2, 3


# ---- Ctrl-C and end of input at every prompt ------------------------------------------------

PROMPTS = [
    pytest.param(("env", "configure"), "NEXLA Environment", id="configure-host-prompt"),
    pytest.param(("env", "configure", "{host}"), "Enter ACCESS TOKEN:", id="configure-token"),
    pytest.param(("env", "login"), "Enter ACCESS TOKEN:", id="login-token"),
    pytest.param(("token", "from-key"), "Enter SERVICE KEY:", id="from-key-key"),
]


def spawn_in_pty(nx, args):
    return pexpect.spawn(
        nexla_executable(),
        [a.format(host=nx.server.host) for a in args],
        env=nx.env_with(NEXLA_SERVICE_KEY=None),
        cwd=str(nx.tmp_path),
        timeout=30,
        encoding="utf-8",
        dimensions=(24, 200),
    )


# Ctrl-C at the prompts of `env configure` and `env login` is tested, with the same checks,
# in tests/e2e/test_env_interactive.py (test_ctrl_c_at_each_prompt_exits_130_and_changes_nothing).
CTRL_C_PROMPTS = [prompt for prompt in PROMPTS if prompt.id == "from-key-key"]


# a real terminal
@pytest.mark.parametrize("args, prompt", CTRL_C_PROMPTS)
def test_ctrl_c_at_a_prompt_exits_130_and_changes_nothing(nx, seeded, args, prompt):
    child = spawn_in_pty(nx, args)
    # The prompt is shown once the terminal is set up to read: Ctrl-C can come at once.
    child.expect_exact(prompt)
    child.sendintr()
    child.expect(pexpect.EOF)
    close_ended(child)
    assert child.exitstatus == 130, (child.exitstatus, child.signalstatus, child.before)
    assert "Traceback" not in child.before
    # The browser may have been opened for the token page; nothing else happened.
    assert store_bytes(nx.config_dir) == seeded
    assert nx.server.count() == 0
    assert sorted(p.name for p in nx.config_dir.iterdir()) in (
        ["credentials.json"],
        ["credentials.json", "credentials.json.lock"],
    )


# a real terminal
@pytest.mark.parametrize("args, prompt", PROMPTS)
def test_end_of_input_at_a_prompt_is_a_usage_error(nx, seeded, args, prompt):
    child = spawn_in_pty(nx, args)
    # A hidden prompt is shown after echo is off and earlier input flushed (TCSAFLUSH), a
    # visible one just before its read: either way Ctrl-D can come at once.
    child.expect_exact(prompt)
    child.sendeof()
    child.expect(pexpect.EOF)
    close_ended(child)
    assert child.exitstatus == USAGE, (child.exitstatus, child.before)
    assert "Traceback" not in child.before
    assert store_bytes(nx.config_dir) == seeded
    assert nx.server.count() == 0


# a real SIGINT
def test_ctrl_c_while_waiting_for_the_server_exits_130_and_changes_nothing(nx):
    """Interrupted inside the store's lock, mid-refresh: nothing half-written.

    Ctrl-C waits for the request to end (here: its timeout), since an answer may carry the
    only valid session (docs/sessions.md); only the documented failure memo is written.
    """
    seed(nx)
    before = read_store(nx.config_dir)
    nx.server.add_fault("POST", "/token/refresh", Fault.hang(60), times=None)
    proc = subprocess.Popen(
        [nexla_executable(), "token", "refresh"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # Long enough for the interrupt to arrive while the request is in flight, even on
        # a loaded machine; the run then lasts about this long.
        env=nx.env_with(NEXLA_TIMEOUT="2"),
        cwd=nx.tmp_path,
        text=True,
    )
    assert nx.server.wait_for_count("POST", "/token/refresh", 1, timeout=30)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and out == ""
    assert without_memo(read_store(nx.config_dir)) == without_memo(before)
    assert not any(p.name.endswith(".tmp") for p in nx.config_dir.iterdir())
    assert os.path.exists(nx.config_dir / "credentials.json")
