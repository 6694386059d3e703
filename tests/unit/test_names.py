"""Environment names: what is accepted, what it is normalised to, and what is refused.

These are the rules of docs/usage.md (Environments), tested on the function the
CLI uses. The end-to-end tests check that a refusal reaches the user as exit 2.
"""

import pytest

from nexla_cli.core.errors import ExitCode, UsageError
from nexla_cli.core.names import normalize_api_url, normalize_env_name, token_page_url

SAME_ENVIRONMENT = [
    "dataops.nexla.io",
    "DataOps.Nexla.IO",
    "https://DataOps.Nexla.io/",
    "https://dataops.nexla.io",
    "HTTPS://dataops.nexla.io/token",
    "https://dataops.nexla.io/token/",
    "dataops.nexla.io/token",
    "dataops.nexla.io.",
    "dataops.nexla.io:443",
    "https://dataops.nexla.io.:443/token",
    "  dataops.nexla.io\n",
    "dataops\u3002nexla\u3002io",  # ideographic full stops, as an IME may type them
]


@pytest.mark.parametrize("raw", SAME_ENVIRONMENT)
def test_spellings_of_one_environment_normalise_to_its_host(raw):
    assert normalize_env_name(raw) == "dataops.nexla.io"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("localhost:8443", "localhost:8443"),
        ("LOCALHOST:8443", "localhost:8443"),
        ("beta.nexla.com:8443/token", "beta.nexla.com:8443"),
        ("https://beta.nexla.com:0443", "beta.nexla.com"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("a" * 63 + ".example", "a" * 63 + ".example"),
        ("my-host.example:65535", "my-host.example:65535"),
    ],
)
def test_host_names_with_ports(raw, expected):
    assert normalize_env_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.0.0.1:8443", "127.0.0.1:8443"),
        ("https://10.1.2.3:443/token", "10.1.2.3"),
        ("[::1]:8443", "[::1]:8443"),
        ("[::1]", "[::1]"),
        ("[::1]:443", "[::1]"),
        ("https://[0:0:0:0:0:0:0:1]:8443/", "[::1]:8443"),
        ("[2001:DB8::A]", "[2001:db8::a]"),
    ],
)
def test_ip_literals(raw, expected):
    assert normalize_env_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("bücher.example", "xn--bcher-kva.example"),
        ("https://BÜCHER.Example/token", "xn--bcher-kva.example"),
        ("bücher.example.", "xn--bcher-kva.example"),
        ("bücher.example:8443", "xn--bcher-kva.example:8443"),
        ("日本語.jp", "xn--wgv71a119e.jp"),
        # IDNA 2008, as browsers and requests use: ß is kept, not mapped to "ss".
        ("straße.de", "xn--strae-oqa.de"),
    ],
)
def test_internationalised_names_are_stored_in_punycode(raw, expected):
    assert normalize_env_name(raw) == expected


REFUSED = [
    "",
    "   ",
    "http://dataops.nexla.io",
    "HTTP://dataops.nexla.io/token",
    "ftp://dataops.nexla.io",
    "data ops.nexla.io",
    "dataops.nexla.io/nexla-api",
    "dataops.nexla.io/token/extra",
    "https://dataops.nexla.io/../token",
    "https://dataops.nexla.io/token?next=1",
    "https://dataops.nexla.io#frag",
    "user@dataops.nexla.io",
    "https://user:secret@dataops.nexla.io",
    "dataops..nexla.io",
    ".dataops.nexla.io",
    "dataops.nexla.io..",
    "a" * 64 + ".example",
    ("a" * 60 + ".") * 5 + "example",  # over 253 characters in all
    "data_ops.nexla.io",
    "-dataops.nexla.io",
    "dataops-.nexla.io",
    "dataops.nexla.io:",
    "dataops.nexla.io:0",
    "dataops.nexla.io:65536",
    "dataops.nexla.io:https",
    "dataops.nexla.io:٣",  # a digit, but not an ASCII one
    "dataops.nexla.io:80:80",
    "1.2.3",
    "256.1.1.1",
    "01.2.3.4",
    "::1",
    "[::1",
    "[::1]x",
    "[::1]:",
    "[1.2.3.4]",
    "[fe80::1%eth0]",
    "😀.example",
    "https://",
]


@pytest.mark.parametrize("raw", REFUSED)
def test_refused_as_a_usage_error(raw):
    with pytest.raises(UsageError) as caught:
        normalize_env_name(raw)
    assert caught.value.exit_code == ExitCode.USAGE == 2
    assert caught.value.message  # one line for the user, never empty
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        pytest.param("http://dataops.nexla.io", ("http://", "https"), id="plain-http"),
        pytest.param("https://ada:secret@dataops.nexla.io", ("user@",), id="user-part"),
    ],
)
def test_the_refusal_names_what_is_wrong(raw, named):
    with pytest.raises(UsageError) as caught:
        normalize_env_name(raw)
    for fragment in named:
        assert fragment in caught.value.message


def test_token_page_of_a_normalised_name():
    assert token_page_url(normalize_env_name("https://DataOps.Nexla.io/")) == (
        "https://dataops.nexla.io/token"
    )
    assert token_page_url(normalize_env_name("[::1]:8443")) == "https://[::1]:8443/token"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://api.example.com/nexla-api", "https://api.example.com/nexla-api"),
        ("https://API.Example.com/nexla-api/", "https://api.example.com/nexla-api"),
        ("https://api.example.com:443/v1", "https://api.example.com/v1"),
        ("https://127.0.0.1:8443/nexla-api", "https://127.0.0.1:8443/nexla-api"),
        ("https://api.example.com", "https://api.example.com"),
    ],
)
def test_api_urls(raw, expected):
    assert normalize_api_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "http://api.example.com/nexla-api",
        "api.example.com/nexla-api",
        "https://",
        "https://user@api.example.com/nexla-api",
        "https://api.example.com/nexla-api?x=1",
        "https://api.example.com/nexla-api#x",
        "https://api.example.com/nexla api",
        "https://api_example.com/nexla-api",
        "",
    ],
)
def test_api_urls_refused(raw):
    with pytest.raises(UsageError):
        normalize_api_url(raw)


def test_a_huge_input_is_quoted_short_in_the_error():
    with pytest.raises(UsageError) as caught:
        normalize_env_name("a b" * 100_000)
    assert len(caught.value.message) < 200
    assert "…" in caught.value.message
