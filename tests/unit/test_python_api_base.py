"""Which requests NexlaAuth gives the token (docs/python.md): those under the API base URL,
the same scheme, host and port, and a path that stays below the base path however a server
reads it. A table of cases of the pure decision, `library.within_api_base`."""

import pytest

from nexla_cli.library import within_api_base

BASE = "https://api.example.com:8443/nexla-api"

CASES = [
    # (url, given the token?)
    (BASE, True),
    (BASE + "/", True),
    (BASE + "/flows?page=2", True),
    ("https://API.Example.com:8443/nexla-api/flows", True),  # host names are case-blind
    ("HTTPS://api.example.com:8443/nexla-api/flows", True),
    (BASE + "/a/../flows", True),  # still below the base once resolved
    ("http://api.example.com:8443/nexla-api/flows", False),  # another scheme
    ("https://api.example.com/nexla-api/flows", False),  # another port (443)
    ("https://api.example.com:9443/nexla-api/flows", False),
    ("https://evil.example.com:8443/nexla-api/flows", False),  # another host
    ("https://api.example.com.evil.example:8443/nexla-api/flows", False),
    ("https://user:pw@api.example.com:8443/nexla-api/flows", False),  # credentials in URL
    ("https://api.example.com:8443/nexla-apis/flows", False),  # a prefix is not a parent
    ("https://api.example.com:8443/other", False),
    ("https://api.example.com:8443/", False),
    (BASE + "/../other", False),
    (BASE + "/%2e%2e/other", False),  # dot segments percent-encoded
    (BASE + "/%252e%252e/other", False),  # twice
    (BASE + "/..%2fother", False),
    (BASE + "/..\\other", False),  # a server taking backslashes for slashes
    ("https://api.example.com:notaport/nexla-api", False),  # unparseable: not the API
    ("nexla-api/flows", False),  # no scheme or host at all
]


@pytest.mark.parametrize(("url", "given"), CASES)
def test_the_token_goes_only_under_the_api_base(url, given):
    assert within_api_base(url, BASE) is given


@pytest.mark.parametrize(
    ("url", "base", "given"),
    [
        ("https://h.example:443/nexla-api/x", "https://h.example/nexla-api", True),
        ("https://h.example/nexla-api/x", "https://h.example:443/nexla-api/", True),
        ("https://h.example/anything", "https://h.example", True),  # a base with no path
        ("https://h.example/../x", "https://h.example", True),
        ("http://h.example/x", "https://h.example", False),
    ],
)
def test_default_ports_and_a_base_without_a_path(url, base, given):
    assert within_api_base(url, base) is given
