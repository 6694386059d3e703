"""The e2e tier of tests/app/test_token_from_key.py, whose docstring says what is promised: the
cases that need a real `nexla` process (a terminal, signals, several processes, what a fresh
interpreter loads)."""

from __future__ import annotations

import subprocess

import pexpect

from tests.support.processes import nexla_executable
from tests.support.stores import (
    stored_session,
)


# a stdin pipe that stays open
def test_with_the_variable_set_an_open_stdin_pipe_is_never_read(nx):
    # A CI job may inherit a stdin pipe that never ends; the variable must win over it.
    nx.server.add_service_key("svc-ci")
    proc = subprocess.Popen(
        [nexla_executable(), "token", "from-key", "--env", nx.server.host],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=nx.env_with(NEXLA_SERVICE_KEY="svc-ci"),
        cwd=nx.tmp_path,
    )
    try:
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
    finally:
        proc.kill()
        proc.stdin.close()
        proc.stdout.close()
        proc.stderr.close()
    assert nx.server.last("POST", "/token").authorization == "Basic svc-ci"


# a real terminal
def test_hidden_prompt_on_a_terminal(nx):
    nx.server.add_service_key("svc-typed-secret")
    child = pexpect.spawn(
        nexla_executable(),
        ["token", "from-key", "--env", nx.server.host],
        env=dict(nx.env),
        cwd=str(nx.tmp_path),
        encoding="utf-8",
        timeout=30,
    )
    try:
        child.expect("Enter SERVICE KEY:")
        child.sendline("svc-typed-secret")
        child.expect(pexpect.EOF)
        after_prompt = child.before
    finally:
        child.close()
    assert child.exitstatus == 0, after_prompt
    assert "svc-typed-secret" not in after_prompt  # not echoed
    assert nx.server.last("POST", "/token").authorization == "Basic svc-typed-secret"
    assert stored_session(nx)["source"] == "service_key"
