"""Header bytes a server sends that are not UTF-8 (docs/network.md, "Redirects"): a
`Location` holding raw bytes is an unexpected answer like any other redirect, exit 5, with
the bytes shown escaped, for `nexla api` and for every session endpoint."""

from __future__ import annotations

import pytest

from tests.support.fake_nexla import Fault
from tests.support.outcomes import assert_presentable, describe
from tests.support.stores import config_bytes

# http.server writes header values as Latin-1, so each character below is one raw byte on
# the wire: 0xff 0xfe (no UTF-8 at all), then "é" as its two UTF-8 bytes, then ESC.
RAW_LOCATION = "https://elsewhere.example/\xff\xfe/caf\xc3\xa9/\x1b[2J"
SHOWN = "https://elsewhere.example/\\xff\\xfe/café/\\x1b[2J"

# (the command, the request it makes, what it needs first)
CASES = {
    "api": (("api", "/users/current"), ("GET", "/users/current")),
    "env show --check": (("env", "show", "--check"), ("GET", "/users/current")),
    "env list --check": (("env", "list", "--check"), ("GET", "/users/current")),
    "token refresh": (("token", "refresh"), ("POST", "/token/refresh")),
    "env logout": (("env", "logout"), ("POST", "/token/logout")),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("code", [302, 307])
def test_a_location_of_raw_bytes_is_exit_5_shown_escaped(nx, case, code):
    argv, (method, path) = CASES[case]
    nx.sign_in()
    nx.server.add_fault(method, path, Fault.redirect(RAW_LOCATION, code=code))
    result = nx.run(*argv)
    # env logout forgets the session locally whatever the server says (warning, exit 0).
    assert result.returncode == (0 if case == "env logout" else 5), describe(result)
    # env list --check shows each environment's reason on stdout, beside it.
    both = result.stdout + result.stderr
    assert SHOWN in both, describe(result)
    assert "\x1b" not in both and "\xff" not in both
    assert_presentable(result)


def test_a_mint_answered_with_a_location_of_raw_bytes_is_exit_5(nx):
    nx.server.add_service_key("svc-key-1")
    nx.server.add_fault("POST", "/token", Fault.redirect(RAW_LOCATION))
    env = dict(nx.env, NEXLA_SERVICE_KEY="svc-key-1")
    before = config_bytes(nx)
    result = nx.run("token", "from-key", "--env", nx.server.host, env=env)
    assert result.returncode == 5, describe(result)
    assert SHOWN in result.stderr
    assert config_bytes(nx) == before
    assert_presentable(result)


def test_debug_shows_header_bytes_escaped(nx):
    nx.sign_in()
    nx.server.add_fault("GET", "/users/current", Fault.redirect(RAW_LOCATION))
    result = nx.run("api", "/users/current", "--debug")
    assert result.returncode == 5, describe(result)
    assert f"< Location: {SHOWN}" in result.stderr, describe(result)
    assert "\xff" not in result.stderr
