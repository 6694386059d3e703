"""The e2e tier of tests/app/test_env_storage.py, whose docstring says what is promised: the cases
that need a real `nexla` process (a terminal, signals, several processes, what a fresh
interpreter loads)."""

import os
import subprocess

from tests.support.fake_nexla import Fault
from tests.support.processes import nexla_executable
from tests.support.signing_in import seed_configured
from tests.support.stores import mode, store_bytes, store_path, stored_session


def run_with_umask_000(nx, *args, input=None):
    return subprocess.run(
        [nexla_executable(), *args],
        input=input,
        env=nx.env,
        cwd=nx.tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: os.umask(0),
    )


# the process umask
def test_modes_under_umask_000(nx):
    token = nx.server.issue_token()
    result = run_with_umask_000(
        nx, "env", "configure", nx.server.host, "--with-token", input=token + "\n"
    )
    assert result.returncode == 0, result.stderr
    assert mode(nx.config_dir) == 0o700
    assert mode(store_path(nx.config_dir)) == 0o600
    assert mode(nx.config_dir / "credentials.json.lock") == 0o600
    # Every file in the directory, whatever the command left there.
    for command in (
        ("env", "login", "--with-token"),
        ("env", "use", nx.server.host),
        ("env", "logout"),
    ):
        again = run_with_umask_000(nx, *command, input=nx.server.issue_token() + "\n")
        assert again.returncode == 0, (command, again.stderr)
    for path in nx.config_dir.iterdir():
        assert mode(path) == 0o600, path
    assert "warning" not in result.stderr


# --- the order of a logout --------------------------------------------------------------------


# the store read while nexla waits in the background
def test_logout_tells_the_server_before_it_forgets_the_token(nx):
    token = nx.server.issue_token()
    seed_configured(nx, nx.server.host, token)
    nx.server.add_fault("POST", "/token/logout", Fault.hang(30))
    env = nx.env_with(NEXLA_TIMEOUT="2")
    process = subprocess.Popen(
        [nexla_executable(), "env", "logout"],
        env=env,
        cwd=nx.tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert nx.server.wait_for_count("POST", "/token/logout", timeout=30)
        # The server has been asked; the token is still on file until it has answered.
        assert stored_session(nx)["access_token"] == token
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "warning:" in stderr  # best effort: the server did not answer
    assert token.encode() not in (store_bytes(nx.config_dir) or b"")
    assert nx.server.count("POST", "/token/logout") == 1  # a POST that may have landed: once
