"""The proxies a run uses are the ones requests would take from the process (docs/network.md,
"Proxies and CA bundles"): client.proxies_for reads a run's variables with the same rules
requests applies to os.environ, upper and lower case, NO_PROXY and all. Each case is answered
both ways, by the shipped code on a mapping and by requests itself on os.environ."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.http import client

URLS = [
    "https://api.example.com/nexla-api/users/current",
    "https://API.Example.com:8443/nexla-api",
    "https://10.1.2.3:8443/nexla-api",
    "https://[::1]:8443/nexla-api",
    "https://localhost/nexla-api",
]
P, Q = "http://p:1", "http://q:2"
CASES = [
    {},
    {"HTTPS_PROXY": P},
    {"https_proxy": P},
    {"HTTPS_PROXY": P, "https_proxy": Q},
    {"HTTPS_PROXY": P, "https_proxy": ""},
    {"Https_Proxy": P},
    {"ALL_PROXY": P},
    {"all_proxy": P, "HTTPS_PROXY": Q},
    {"HTTP_PROXY": P},
    {"HTTP_PROXY": P, "REQUEST_METHOD": "GET"},
    {"http_proxy": P, "REQUEST_METHOD": "GET"},
    {"HTTPS_PROXY": P, "NO_PROXY": "example.com"},
    {"HTTPS_PROXY": P, "no_proxy": ".example.com"},
    {"HTTPS_PROXY": P, "NO_PROXY": "api.example.com:8443"},
    {"HTTPS_PROXY": P, "NO_PROXY": "other.com, localhost"},
    {"HTTPS_PROXY": P, "NO_PROXY": "*"},
    {"HTTPS_PROXY": P, "NO_PROXY": "EXAMPLE.COM"},
    {"HTTPS_PROXY": P, "NO_PROXY": "10.0.0.0/8"},
    {"HTTPS_PROXY": P, "NO_PROXY": "10.1.2.3"},
    {"HTTPS_PROXY": P, "NO_PROXY": "::1"},
    {"HTTPS_PROXY": P, "NO_PROXY": "[::1]:8443"},
    {"HTTPS_PROXY": P, "no_proxy": "", "NO_PROXY": "example.com"},
    {"HTTPS_PROXY": P, "no_proxy": "other.com", "NO_PROXY": "example.com"},
    {"HTTPS_PROXY": P, "NO_PROXY": "nothing.here"},
    {"NO_PROXY": "example.com"},
    {"HTTPS_PROXY": "", "ALL_PROXY": P},
]


def requests_answer(monkeypatch: pytest.MonkeyPatch, url: str, variables: dict) -> dict:
    """What requests itself takes from os.environ holding exactly these proxy variables."""
    from requests.utils import get_environ_proxies

    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name == "REQUEST_METHOD":
            monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    try:
        return dict(get_environ_proxies(url, no_proxy=None))
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("variables", CASES, ids=[repr(case) for case in CASES])
@pytest.mark.parametrize("url", URLS)
def test_the_shipped_lookup_answers_as_requests_does_for_the_process(monkeypatch, url, variables):
    assert client.proxies_for(url, variables) == requests_answer(monkeypatch, url, variables)


_NAMES = st.sampled_from(
    ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"]
)
_VALUES = st.sampled_from(
    [
        "",
        P,
        Q,
        "example.com",
        ".example.com",
        "api.example.com:8443",
        "*",
        "10.0.0.0/8",
        "localhost,other.com",
        " example.com , x",
    ]
)


@settings(max_examples=200, deadline=None)
@given(variables=st.dictionaries(_NAMES, _VALUES, max_size=4), url=st.sampled_from(URLS))
def test_any_mix_of_variables_is_read_as_requests_reads_it(variables, url):
    with pytest.MonkeyPatch.context() as monkeypatch:
        expected = requests_answer(monkeypatch, url, variables)
    assert client.proxies_for(url, variables) == expected
