"""The session handed to real consumers (docs/scripting.md): Nexla's SDK (`nexla-sdk`), which
reads NEXLA_API_URL and NEXLA_ACCESS_TOKEN, and curl with the printed token."""

from __future__ import annotations

import json
import os
import select
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.outcomes import describe
from tests.support.stores import set_times

# In tests/e2e: `nexla` run by a real shell, or running the job itself (`token exec`).

pytest.importorskip("nexla_sdk")

# What a job using the SDK does: the client reads both variables itself.
SDK_JOB = """
import json
from nexla_sdk import NexlaClient

client = NexlaClient()
me = client.users.get_current()
print(json.dumps({"api_url": client.api_url, "email": me["user"]["email"]}))
"""

# Importing the SDK takes a second or more on a loaded machine before a job does anything,
# so one Python process imports it once for this module: the job host. The job that `nexla`
# or the shell starts is a small Python program that hands the host what a job gets from
# them (its environment, working directory, stdin, stdout and stderr) and exits with the
# job's status; the host runs SDK_JOB in a fork of itself given exactly those. Each job is
# still a process of its own, with nothing of the one before.
JOB_HOST = r"""
import json, os, socket, sys, traceback

import nexla_sdk  # noqa: F401 (what the host is for)

job = compile(open(sys.argv[2]).read(), "job.py", "exec")
server = socket.socket(socket.AF_UNIX)
server.bind(sys.argv[1])
server.listen()
print("ready", flush=True)
while True:
    connection, _ = server.accept()
    data, fds, _, _ = socket.recv_fds(connection, 1 << 16, 3)
    while chunk := connection.recv(1 << 16):
        data += chunk
    given = json.loads(data)
    pid = os.fork()
    if pid == 0:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.environ.clear()
        os.environ.update(given["environ"])
        os.chdir(given["cwd"])
        sys.argv = ["job.py"]
        status = 0
        try:
            exec(job, {"__name__": "__main__"})
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()  # as the interpreter does, with the same status
            status = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    for fd in fds:
        os.close(fd)
    _, wait_status = os.waitpid(pid, 0)
    connection.sendall(str(os.waitstatus_to_exitcode(wait_status)).encode())
    connection.close()
"""

JOB_STARTER = r"""
import json, os, socket, sys

connection = socket.socket(socket.AF_UNIX)
connection.connect(sys.argv[1])
given = {"environ": dict(os.environ), "cwd": os.getcwd()}
socket.send_fds(connection, [json.dumps(given).encode()], [0, 1, 2])
connection.shutdown(socket.SHUT_WR)
sys.exit(int(connection.recv(16) or b"1"))
"""


@pytest.fixture(scope="module")
def sdk_job(tmp_path_factory):
    """The command line of a job using the SDK (see JOB_HOST)."""
    root = tmp_path_factory.mktemp("sdk-job")
    for name, text in (("job.py", SDK_JOB), ("host.py", JOB_HOST), ("start.py", JOB_STARTER)):
        (root / name).write_text(text)
    address = str(root / "host.sock")
    host = subprocess.Popen(
        [sys.executable, str(root / "host.py"), address, str(root / "job.py")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
    )
    try:
        ready, _, _ = select.select([host.stdout], [], [], 120)
        assert ready and host.stdout.readline() == b"ready\n", "the SDK job host did not start"
        yield [sys.executable, str(root / "start.py"), address]
    finally:
        host.terminate()
        host.wait(timeout=30)
        host.stdout.close()


def _shell_env(nx) -> dict:
    env = nx.env_with()
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def _bash(nx, script: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", script],
        env=_shell_env(nx),
        cwd=nx.tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _sdk_request(nx, token: str):
    """The SDK's one call, checked to be its own and to carry the token handed over."""
    calls = nx.server.find("GET", "/users/current")
    assert len(calls) == 1
    assert calls[0].authorization == f"Bearer {token}"
    assert calls[0].header("user-agent", "").startswith("nexla-sdk/")


def test_sdk_job_with_the_exported_variables(nx, sdk_job):
    token = nx.sign_in()
    nx.server.clear_log()
    result = _bash(nx, f'eval "$(nexla token export)" && {shlex.join(sdk_job)}')
    assert result.returncode == 0, describe(result)
    assert json.loads(result.stdout) == {"api_url": nx.server.api_url, "email": "ada@example.com"}
    _sdk_request(nx, token)
    assert nx.server.count() == 1  # the fresh token was exported without a request


def test_sdk_job_under_token_exec(nx, sdk_job):
    token = nx.sign_in()
    nx.server.clear_log()
    result = nx.ok("token", "exec", "--", *sdk_job)
    assert json.loads(result.stdout)["email"] == "ada@example.com"
    _sdk_request(nx, token)
    assert nx.server.count() == 1


def test_sdk_job_under_token_exec_with_min_ttl_renews_first(nx, sdk_job):
    nx.sign_in()
    set_times(nx, lifetime=3600, left=1000, source="refreshed", expires_estimated=False)
    nx.server.clear_log()
    nx.ok("token", "exec", "--min-ttl", "1800", "--", *sdk_job)
    assert nx.server.count("POST", "/token/refresh") == 1
    _sdk_request(nx, nx.server.issued[-1])
    assert nx.server.count() == 2


def test_sdk_job_sees_a_rejected_token_as_its_own_error(nx, sdk_job):
    token = nx.sign_in()
    nx.server.invalidate(token)  # the server forgot it; the store still thinks it fresh
    nx.server.clear_log()
    result = nx.run("token", "exec", "--", *sdk_job)
    assert result.returncode == 1  # the SDK's exception, passed through as the job's status
    assert "AuthenticationError" in result.stderr


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_with_the_printed_token(nx):
    token = nx.sign_in()
    nx.server.clear_log()
    ca = nx.server.ca_bundle
    url = f"{nx.server.api_url}/users/current"
    # As the docs show it: simple, but the token is in curl's arguments...
    plain = _bash(
        nx, f'curl -sS --fail --cacert {ca} -H "Authorization: Bearer $(nexla token print)" {url}'
    )
    # ...and the way that keeps it out of them: the header read from stdin.
    piped = _bash(
        nx,
        f"nexla token print | sed 's/^/Authorization: Bearer /' "
        f"| curl -sS --fail --cacert {ca} -H @- {url}",
    )
    for result in (plain, piped):
        assert result.returncode == 0, describe(result)
        assert json.loads(result.stdout)["user"]["email"] == "ada@example.com"
    calls = nx.server.find()
    assert [c.authorization for c in calls] == [f"Bearer {token}"] * 2
    assert all(c.header("user-agent", "").startswith("curl/") for c in calls)
