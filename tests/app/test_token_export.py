"""`nexla token export` (docs/scripting.md): the variables, quoted so that each shell named
gets back exactly the values, whatever characters an API URL or a token may hold."""

from __future__ import annotations

import io
import json
import time

import pytest

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from tests.support.outcomes import describe
from tests.support.stores import edit_session, set_times, stored_session

# The worst of the above that dotenv carries: what some dotenv reader changes ($, \\, quotes,
# backticks, #) is refused instead (tests/app/test_dotenv_roundtrip.py).
DOTENV_HOSTILE_PATH = "/nexla-api/it;>PWNED2|&*!{}\u2019\u00e9%(x)<y>~^[]"
DOTENV_HOSTILE_TOKEN = "tok;>PWNED6|&*!{}~%^[]<>=,"


def test_dotenv_is_read_back_by_python_dotenv(nx):
    dotenv = pytest.importorskip("dotenv")
    api_url = f"https://{nx.server.host}{DOTENV_HOSTILE_PATH}"
    nx.sign_in(None, "--api-url", api_url, "--no-verify")
    edit_session(nx, access_token=DOTENV_HOSTILE_TOKEN, expires_at=int(time.time()) + 3000)
    result = nx.ok("token", "export", "--format", "dotenv")
    values = dotenv.dotenv_values(stream=io.StringIO(result.stdout), interpolate=True)
    assert dict(values) == {
        "NEXLA_API_URL": api_url,
        "NEXLA_ACCESS_TOKEN": DOTENV_HOSTILE_TOKEN,
        "NEXLA_ENV": nx.server.host,
    }


def test_dotenv_of_an_ordinary_session_needs_no_quotes(nx):
    token = nx.sign_in()
    result = nx.run("token", "export", "--format", "dotenv")
    assert result.stdout == (
        f"NEXLA_API_URL={nx.server.api_url}\nNEXLA_ACCESS_TOKEN={token}\n"
        f"NEXLA_ENV={nx.server.host}\n"
    )


def test_json_adds_expires_at(nx):
    token = nx.sign_in()
    result = nx.ok("token", "export", "--format", "json")
    data = json.loads(result.stdout)
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stored_session(nx)["expires_at"]))
    assert data == {
        "NEXLA_API_URL": nx.server.api_url,
        "NEXLA_ACCESS_TOKEN": token,
        "NEXLA_ENV": nx.server.host,
        "expires_at": expires,
    }


def test_due_token_is_refreshed_first(nx):
    old = nx.sign_in()
    set_times(nx, lifetime=3600, left=100, source="refreshed", expires_estimated=False)
    nx.server.clear_log()
    result = nx.ok("token", "export", "--format", "json")
    new = nx.server.issued[-1]
    assert json.loads(result.stdout)["NEXLA_ACCESS_TOKEN"] == new != old
    assert nx.server.count() == 1 and nx.server.count("POST", "/token/refresh") == 1


def test_min_ttl_renews_a_token_with_too_little_life(nx):
    nx.sign_in()
    set_times(nx, lifetime=3600, left=1000, source="refreshed", expires_estimated=False)
    nx.server.clear_log()
    nx.ok("token", "export", "--min-ttl", "600")
    assert nx.server.count() == 0
    more = nx.ok("token", "export", "--format", "json", "--min-ttl", "1800")
    assert nx.server.count() == 1
    assert json.loads(more.stdout)["NEXLA_ACCESS_TOKEN"] == nx.server.issued[-1]


def test_access_token_variable_is_exported_as_it_is(nx):
    nx.sign_in()
    env = nx.env_with(NEXLA_ACCESS_TOKEN="tok-from-variable")
    result = nx.run("token", "export", "--format", "json", env=env)
    data = json.loads(result.stdout)
    assert data["NEXLA_ACCESS_TOKEN"] == "tok-from-variable"
    assert data["NEXLA_ENV"] == nx.server.host and data["expires_at"] is None


def test_access_token_variable_without_an_environment_needs_the_api_url(nx):
    env = nx.env_with(NEXLA_ACCESS_TOKEN="tok-from-variable")
    result = nx.fails(3, "token", "export", env=env)
    assert "NEXLA_API_URL" in result.stderr, describe(result)
    env["NEXLA_API_URL"] = nx.server.api_url
    result = nx.ok("token", "export", env=env)
    assert result.stdout == (
        f"export NEXLA_API_URL='{nx.server.api_url}'\n"
        "export NEXLA_ACCESS_TOKEN='tok-from-variable'\n"
    )


def test_service_key_in_the_environment_draws_a_warning(nx):
    nx.sign_in()
    result = nx.ok("token", "export", env=nx.env_with(NEXLA_SERVICE_KEY="svc-key"))
    assert "svc-key" not in result.stdout + result.stderr
    assert "NEXLA_SERVICE_KEY is set" in result.stderr


def test_not_signed_in_is_exit_3_or_4_and_prints_nothing(nx):
    result = nx.fails(3, "token", "export")
    assert result.stdout == "", describe(result)
    nx.sign_in()
    nx.run("env", "logout")
    result = nx.fails(4, "token", "export")
    assert result.stdout == "", describe(result)


def test_bad_format_is_a_usage_error(nx):
    nx.sign_in()
    result = nx.fails(2, "token", "export", "--format", "csh")
    assert result.stdout == ""
