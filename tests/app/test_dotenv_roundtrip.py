"""`nexla token export --format dotenv` (docs/scripting.md, "Details"): written bare, so that
python-dotenv, docker's `--env-file` and systemd's `EnvironmentFile=` each read back exactly
the values; a value one of them would read differently (`${…}` and `$`, backslashes,
quotes, `#`) is refused with exit 2 and nothing written, whoever sent it.

python-dotenv is the real one. docker and systemd cannot run here; their rules, as the
docs above state them, are checked as predicates on the line written:
- docker `--env-file`: a line is NAME=VALUE, the value taken literally to the end of the
  line (quotes, `$` and backslashes included), the file UTF-8;
- systemd `EnvironmentFile=`: a bare value has its surrounding whitespace dropped, a
  backslash escapes the next character (and drops itself), and a value that starts with a
  single or double quote is a quoted one; `$` is not expanded."""

from __future__ import annotations

import json
import time

import pytest

from nexla_cli.auth import handoff
from nexla_cli.core import names
from tests.support.dotenv_readers import docker_reads_back, python_dotenv, systemd_reads_back
from tests.support.outcomes import assert_error, describe
from tests.support.stores import config_bytes, edit_session

HOSTILE_TOKENS = [
    "tok_${HOME}",
    "tok_${HOME:-x}",
    "tok$HOME",
    "tok'x'",
    'tok"x"',
    "tok\\x",
    "tok#x",
    "tok`id`",
    "'tok",
]


@pytest.mark.parametrize("token", HOSTILE_TOKENS)
def test_a_token_dotenv_readers_would_change_is_refused_with_nothing_written(nx, token):
    nx.sign_in()
    edit_session(nx, access_token=token, expires_at=int(time.time()) + 3000)
    before = config_bytes(nx)
    result = nx.run("token", "export", "--format", "dotenv")
    assert_error(result, 2, "NEXLA_ACCESS_TOKEN")
    assert "--format sh" in result.stderr
    assert config_bytes(nx) == before and nx.server.count() == 0


@pytest.mark.parametrize("path", ["/nexla-api/${HOME}", "/nexla-api/$x", "/nexla-api/a\\b"])
def test_an_api_url_dotenv_readers_would_change_is_refused(nx, path):
    api_url = f"https://{nx.server.host}{path}"
    assert names.normalize_api_url(api_url) == api_url  # a URL the tool accepts
    nx.sign_in(None, "--api-url", api_url, "--no-verify")
    result = nx.run("token", "export", "--format", "dotenv")
    assert_error(result, 2, "NEXLA_API_URL")


@pytest.mark.parametrize("token", HOSTILE_TOKENS)
def test_sh_and_json_still_carry_such_a_token(nx, token):
    nx.sign_in()
    edit_session(nx, access_token=token, expires_at=int(time.time()) + 3000)
    exported = nx.run("token", "export", "--format", "json")
    assert exported.returncode == 0, describe(exported)
    assert json.loads(exported.stdout)["NEXLA_ACCESS_TOKEN"] == token
    sh = nx.run("token", "export")
    assert f"export NEXLA_ACCESS_TOKEN={handoff.quote_sh(token)}" in sh.stdout


def test_an_ordinary_session_is_read_back_exactly_by_each_reader(nx):
    token = nx.sign_in()
    result = nx.run("token", "export", "--format", "dotenv")
    assert result.returncode == 0, describe(result)
    expected = {
        "NEXLA_API_URL": nx.server.api_url,
        "NEXLA_ACCESS_TOKEN": token,
        "NEXLA_ENV": nx.server.host,
    }
    assert python_dotenv(result.stdout) == expected
    lines = result.stdout.splitlines()
    for line, (name, value) in zip(lines, expected.items(), strict=True):
        assert docker_reads_back(line, name, value)
        assert systemd_reads_back(line, name, value)
