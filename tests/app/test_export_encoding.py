"""`nexla token export` writes the variables exactly or not at all (docs/scripting.md,
"Details"): an API URL the output encoding cannot hold (`LC_ALL=C`, `PYTHONIOENCODING=ascii`)
is an error, never a value written with escapes that the shell would then read as it is."""

from __future__ import annotations

import json

import pytest

from tests.support.outcomes import assert_error, describe

PATH = "/nexla-api/caf\u00e9"


@pytest.mark.parametrize("fmt", ["sh", "fish", "powershell", "dotenv"])
@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_value_the_encoding_cannot_hold_is_exit_3_and_nothing_written(nx, fmt, encoding):
    api_url = f"https://{nx.server.host}/nexla-api/\u2019caf\u00e9"
    nx.sign_in(None, "--api-url", api_url, "--no-verify")
    result = nx.run("token", "export", "--format", fmt, env=nx.env_with(PYTHONIOENCODING=encoding))
    assert_error(result, 3, "NEXLA_API_URL")
    assert "UTF-8" in result.stderr


def test_json_carries_it_in_any_encoding(nx):
    api_url = f"https://{nx.server.host}{PATH}"
    nx.sign_in(None, "--api-url", api_url, "--no-verify")
    result = nx.run(
        "token", "export", "--format", "json", env=nx.env_with(PYTHONIOENCODING="ascii")
    )
    assert result.returncode == 0, describe(result)
    assert json.loads(result.stdout)["NEXLA_API_URL"] == api_url


def test_utf_8_carries_it(nx):
    api_url = f"https://{nx.server.host}{PATH}"
    nx.sign_in(None, "--api-url", api_url, "--no-verify")
    result = nx.run("token", "export", env=nx.env_with(PYTHONIOENCODING="utf-8"))
    assert result.returncode == 0, describe(result)
    assert f"export NEXLA_API_URL='{api_url}'" in result.stdout
