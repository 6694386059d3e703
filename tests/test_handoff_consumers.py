"""The session handed to real consumers (docs/scripting.md): Nexla's SDK (`nexla-sdk`), which
reads NEXLA_API_URL and NEXLA_ACCESS_TOKEN, and curl with the printed token."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.outcomes import describe
from tests.stores import set_times

# `nexla` run by a real shell, or running the job itself (`token exec`).
pytestmark = pytest.mark.e2e

pytest.importorskip("nexla_sdk")

# What a job using the SDK does: the client reads both variables itself.
SDK_JOB = """
import json
from nexla_sdk import NexlaClient

client = NexlaClient()
me = client.users.get_current()
print(json.dumps({"api_url": client.api_url, "email": me["user"]["email"]}))
"""


def _job(nx) -> Path:
    path = nx.tmp_path / "job.py"
    path.write_text(SDK_JOB)
    return path


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


def test_sdk_job_with_the_exported_variables(nx):
    token = nx.sign_in()
    nx.server.clear_log()
    result = _bash(nx, f'eval "$(nexla token export)" && python {_job(nx)}')
    assert result.returncode == 0, describe(result)
    assert json.loads(result.stdout) == {"api_url": nx.server.api_url, "email": "ada@example.com"}
    _sdk_request(nx, token)
    assert nx.server.count() == 1  # the fresh token was exported without a request


def test_sdk_job_under_token_exec(nx):
    token = nx.sign_in()
    nx.server.clear_log()
    result = nx.run("token", "exec", "--", sys.executable, str(_job(nx)))
    assert result.returncode == 0, describe(result)
    assert json.loads(result.stdout)["email"] == "ada@example.com"
    _sdk_request(nx, token)
    assert nx.server.count() == 1


def test_sdk_job_under_token_exec_with_min_ttl_renews_first(nx):
    nx.sign_in()
    set_times(nx, lifetime=3600, left=1000, source="refreshed", expires_estimated=False)
    nx.server.clear_log()
    result = nx.run("token", "exec", "--min-ttl", "1800", "--", sys.executable, str(_job(nx)))
    assert result.returncode == 0, describe(result)
    assert nx.server.count("POST", "/token/refresh") == 1
    _sdk_request(nx, nx.server.issued[-1])
    assert nx.server.count() == 2


def test_sdk_job_sees_a_rejected_token_as_its_own_error(nx):
    token = nx.sign_in()
    nx.server.invalidate(token)  # the server forgot it; the store still thinks it fresh
    nx.server.clear_log()
    result = nx.run("token", "exec", "--", sys.executable, str(_job(nx)))
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
