"""Bad input of every shape: one `error:` line, the right exit code, nothing changed, nothing sent.

Hosts and URLs, tokens and keys, stdin that is not UTF-8, unknown or missing environments,
invalid NEXLA_TIMEOUT / NEXLA_REFRESH_MARGIN, and Ctrl-C (or end of input) at every prompt.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.inprocess import run_in_process
from tests.support.outcomes import assert_error
from tests.support.signing_in import seed, session_record
from tests.support.stores import read_store, store_bytes, write_store

USAGE, CONFIG = 2, 3


def assert_unchanged(nx, before: bytes | None) -> None:
    assert store_bytes(nx.config_dir) == before, "the store changed"
    extra = sorted(
        p.name
        for p in (nx.config_dir.iterdir() if nx.config_dir.exists() else [])
        if p.name not in ("credentials.json", "credentials.json.lock")
    )
    assert extra == [], extra
    assert nx.server.count() == 0, "a request was sent"
    assert nx.browser_log() == []


# ---- hosts and URLs ------------------------------------------------------------------------

BAD_HOSTS = {
    "http": "http://{host}",
    "http-upper": "HTTP://{host}/token",
    "ftp": "ftp://{host}",
    "path": "{host}/nexla-api/users",
    "path-after-token": "https://{host}/token/x",
    "query": "https://{host}?next=/token",
    "user": "ada@{host}",
    "user-password": "https://ada:pw@{host}",
    "space-inside": "data ops.nexla.io",
    "space-only": "   ",
    "empty": "",
    "double-dot": "dataops..nexla.io",
    "dot-only": ".",
    "long-label": "a" * 64 + ".nexla.io",
    "long-name": ".".join(["a" * 60] * 5),
    "underscore": "data_ops.nexla.io",
    "leading-hyphen": "-dataops.nexla.io",
    "backslash": "dataops.nexla.io\\token",
    "port-zero": "dataops.nexla.io:0",
    "port-too-big": "dataops.nexla.io:65536",
    "port-word": "dataops.nexla.io:https",
    "port-empty": "dataops.nexla.io:",
    "port-non-ascii-digits": "dataops.nexla.io:\u0664\u0664\u0663",
    "ipv4-out-of-range": "256.1.1.1",
    "ipv4-five-parts": "1.2.3.4.5",
    "ipv6-unclosed": "[::1",
    "ipv6-bad": "[zz::1]:8443",
    "ipv6-zone": "[fe80::1%eth0]",
    "ipv6-zone-space": "[fe80::1%a b]",
    "newline-inside": "dataops\n.nexla.io",
    "unicode-bidi-mix": "\u05d0a.example",
    "unicode-ideographic-dots": "a\u3002\u3002b",
    "unicode-replacement-char": "\ufffd.example",
    # IDNA 2008 (what requests itself uses for such hosts) has no symbols in names.
    "unicode-symbol": "\u2603.example",
}


@pytest.mark.parametrize("raw", BAD_HOSTS.values(), ids=BAD_HOSTS.keys())
def test_env_configure_refuses_a_bad_host(nx, seeded, raw):
    host = raw.format(host=nx.server.host)
    result = nx.run("env", "configure", host, "--with-token", input=nx.server.issue_token())
    assert_error(result, USAGE)
    assert_unchanged(nx, seeded)


@pytest.mark.parametrize(
    "args",
    [
        ("env", "use", "data_ops.nexla.io"),
        ("env", "remove", "http://dataops.nexla.io"),
        ("env", "show", "--env", "a..b"),
        ("token", "print", "--env", "user@dataops.nexla.io"),
        ("token", "refresh", "--env", "dataops.nexla.io/x"),
        ("env", "logout", "--env", "x" * 64 + ".io"),
    ],
    ids=["use", "remove", "show", "print", "refresh", "logout"],
)
def test_every_command_refuses_a_bad_environment_name(nx, seeded, args):
    result = nx.run(*args)
    assert_error(result, USAGE)
    assert_unchanged(nx, seeded)


def test_a_bad_name_in_nexla_env_is_refused(nx, seeded):
    result = nx.run("token", "print", env=nx.env_with(NEXLA_ENV="http://dataops.nexla.io"))
    assert_error(result, USAGE, "http://")
    assert_unchanged(nx, seeded)


@pytest.mark.parametrize(
    "name, stored",
    [
        ("bücher.example", "xn--bcher-kva.example"),
        ("https://BÜCHER.Example./token", "xn--bcher-kva.example"),
        ("münchen.example:8443", "xn--mnchen-3ya.example:8443"),
        ("straße.example:443", "xn--strae-oqa.example"),
    ],
)
def test_internationalised_names_are_stored_as_punycode(nx, name, stored):
    nx.ok("env", "configure", name, "--with-token", "--no-verify", input="tok-unicode")
    data = read_store(nx.config_dir)
    assert list(data["environments"]) == [stored]
    assert data["environments"][stored]["api_url"] == f"https://{stored}/nexla-api"
    assert nx.server.count() == 0  # --no-verify


BAD_API_URLS = {
    "http": "http://{host}/nexla-api",
    "no-scheme": "{host}/nexla-api",
    "user": "https://ada@{host}/nexla-api",
    "query": "https://{host}/nexla-api?x=1",
    "fragment": "https://{host}/nexla-api#top",
    "no-host": "https:///nexla-api",
    "bad-host": "https://data_ops.example/nexla-api",
    "space": "https://{host}/nexla api",
    "empty": "",
}


@pytest.mark.parametrize("raw", BAD_API_URLS.values(), ids=BAD_API_URLS.keys())
def test_a_bad_api_url_is_refused(nx, seeded, raw):
    url = raw.format(host=nx.server.host)
    args = ("env", "configure", nx.server.host, "--with-token", "--api-url", url)
    result = nx.run(*args, input=nx.server.issue_token())
    assert_error(result, USAGE)
    assert_unchanged(nx, seeded)


def test_a_bad_nexla_api_url_is_refused(nx, seeded):
    result = nx.run(
        "token", "refresh", env=nx.env_with(NEXLA_API_URL=f"http://{nx.server.host}/nexla-api")
    )
    assert_error(result, USAGE, "https")
    assert_unchanged(nx, seeded)


# ---- tokens and keys -----------------------------------------------------------------------

BAD_SECRETS = {
    "empty": b"",
    "blank-lines": b"\n\n\r\n",
    "whitespace-only": b"   \t  \n",
    "inner-space": b"tok-abc def\n",
    "control-char": b"tok-abc\x01def\n",
    "escape-sequence": b"tok-\x1b[31mred\n",
    "delete-char": b"tok-abc\x7f\n",
    "200KB": b"t" * 200_000 + b"\n",
    "not-utf8": b"tok-\xff\xfe\xfd\n",
    "latin1-accent": "tok-café\n".encode("latin-1"),
}


def run_bytes(nx, *args, stdin: bytes | None, env=None) -> subprocess.CompletedProcess:
    """`nexla ARGS` (in this process) with these bytes on stdin; None: an empty stdin, as
    /dev/null gives."""
    return run_in_process(list(args), env=env or nx.env, input=stdin, cwd=nx.tmp_path)


SECRET_COMMANDS = {
    "configure": lambda nx: ("env", "configure", nx.server.host, "--with-token"),
    "login": lambda nx: ("env", "login", "--with-token"),
    "from-key-stdin": lambda nx: ("token", "from-key"),
    "from-key-dash": lambda nx: ("token", "from-key", "--key-file", "-"),
}


# Every shape through `env configure`; the others share the reader, so a few shapes each.
SECRET_CASES = [
    pytest.param(command, BAD_SECRETS[shape], id=f"{name}|{shape}")
    for name, command in SECRET_COMMANDS.items()
    for shape in (
        BAD_SECRETS
        if name == "configure"
        else ("whitespace-only", "control-char", "200KB", "not-utf8")
    )
]


@pytest.mark.parametrize("command, raw", SECRET_CASES)
def test_a_bad_token_or_key_on_stdin_is_refused(nx, seeded, command, raw):
    result = run_bytes(nx, *command(nx), stdin=raw)
    assert_error(result, USAGE)
    assert_unchanged(nx, seeded)


@pytest.mark.parametrize(
    "raw",
    [b"", b"\n", b"svc abc\n", b"svc-\x01\n", b"svc-\xff\xfe\n", b"k" * 200_000],
    ids=["empty", "newline", "inner-space", "control-char", "not-utf8", "200KB"],
)
def test_a_bad_key_file_is_refused(nx, seeded, raw):
    key_file = nx.tmp_path / "bad.key"
    key_file.write_bytes(raw)
    result = run_bytes(nx, "token", "from-key", "--key-file", str(key_file), stdin=None)
    assert_error(result, USAGE)
    assert_unchanged(nx, seeded)


@pytest.mark.parametrize("where", ["missing", "directory"])
def test_a_key_file_that_cannot_be_read_is_refused(nx, seeded, where):
    path = nx.tmp_path / "no-such.key" if where == "missing" else nx.tmp_path
    result = nx.run("token", "from-key", "--key-file", str(path))
    assert_error(result, USAGE)
    assert_unchanged(nx, seeded)


@pytest.mark.parametrize(
    "value",
    [b"", b"   ", b"svc key", b"svc-\x01", b"svc-\xff\xfe", b"k" * 100_000],
    ids=["empty", "blank", "inner-space", "control-char", "not-utf8", "100KB"],
)
def test_a_bad_nexla_service_key_is_refused(nx, seeded, value):
    # A variable's bytes reach a program as os.environ decodes them: os.fsdecode, which
    # keeps bytes that are not UTF-8 as surrogate escapes.
    env = nx.env_with(NEXLA_SERVICE_KEY=os.fsdecode(value))
    result = run_bytes(nx, "token", "from-key", stdin=None, env=env)
    assert_error(result, USAGE)
    assert_unchanged(nx, seeded)


def test_configure_without_host_on_a_pipe_is_a_usage_error(nx, seeded):
    result = nx.run("env", "configure", "--with-token", input=nx.server.issue_token())
    assert_error(result, USAGE, "HOST")
    assert_unchanged(nx, seeded)


@pytest.mark.parametrize(
    "args",
    [
        ("token", "print", "extra"),
        ("token", "print", "--bogus"),
        ("env", "show", "--env"),
        ("token", "refresh", "--json", "--print"),
        ("token", "from-key", "--json", "--print"),
        ("nope",),
    ],
    ids=[
        "extra-arg",
        "unknown-option",
        "missing-value",
        "refresh-json-print",
        "from-key-json-print",
        "unknown-command",
    ],
)
def test_bad_arguments_are_usage_errors(nx, seeded, args):
    result = nx.fails(USAGE, *args, env=nx.env_with(NEXLA_SERVICE_KEY="svc-key"))
    assert "Traceback" not in result.stderr
    assert_unchanged(nx, seeded)


# ---- unknown or missing environments --------------------------------------------------------

ENV_COMMANDS = [
    ("token", "print"),
    ("token", "refresh"),
    ("token", "status"),
    ("env", "show"),
    ("env", "show", "--check"),
    ("env", "login", "--with-token"),
    ("env", "logout"),
]


UNKNOWN_CASES = [pytest.param(args, "--env", id=" ".join(args)) for args in ENV_COMMANDS] + [
    pytest.param(args, "NEXLA_ENV", id=" ".join(args) + " (NEXLA_ENV)")
    for args in (("token", "print"), ("env", "logout"))
]


@pytest.mark.parametrize("args, how", UNKNOWN_CASES)
def test_an_unknown_environment_is_exit_3(nx, seeded, args, how):
    if how == "--env":
        result = nx.run(*args, "--env", "nowhere.example", input="tok-x")
    else:
        result = nx.run(*args, input="tok-x", env=nx.env_with(NEXLA_ENV="nowhere.example"))
    assert_error(result, CONFIG, "nowhere.example")
    assert_unchanged(nx, seeded)


@pytest.mark.parametrize(
    "args", [("env", "use", "nowhere.example"), ("env", "remove", "nowhere.example")]
)
def test_use_or_remove_of_an_unknown_environment_is_exit_3(nx, seeded, args):
    result = nx.run(*args)
    assert_error(result, CONFIG, "nowhere.example")
    assert_unchanged(nx, seeded)


@pytest.mark.parametrize("args", ENV_COMMANDS, ids=" ".join)
def test_no_environment_configured_is_exit_3(nx, args):
    result = nx.run(*args, input="tok-x")
    assert_error(result, CONFIG, "no environment")
    assert not (nx.config_dir / "credentials.json").exists()
    assert nx.server.count() == 0


@pytest.mark.parametrize("args", ENV_COMMANDS, ids=" ".join)
def test_no_current_environment_is_exit_3_with_a_hint(nx, args):
    token = nx.server.issue_token()
    before = write_store(
        nx.config_dir,
        {
            name: {"api_url": nx.server.api_url, "session": session_record(token)}
            for name in ("a.example", "b.example")
        },
        None,
    )
    result = nx.run(*args, input="tok-x")
    assert_error(result, CONFIG, "no environment is current")
    assert "nexla env use" in result.stderr
    assert_unchanged(nx, before)


# ---- variables -----------------------------------------------------------------------------

BAD_TIMEOUTS = ["abc", "0", "-1", "nan", "inf", "1e999", "5s", "1,5"]


TIMEOUT_CASES = [
    pytest.param(args, value, id=f"{name}|{value}")
    for name, args, values in (
        ("refresh", ("token", "refresh"), BAD_TIMEOUTS),
        ("check", ("env", "show", "--check"), ["abc", "0", "inf"]),
        ("print-due", ("token", "print"), ["-1", "nan", "1e999"]),
    )
    for value in values
]


@pytest.mark.parametrize("args, value", TIMEOUT_CASES)
def test_an_invalid_nexla_timeout_is_refused(nx, args, value):
    seed(nx, lifetime=3600, age=3500)  # due, so token print would talk to the server
    before = store_bytes(nx.config_dir)
    nx.server.clear_log()
    result = nx.run(*args, env=nx.env_with(NEXLA_TIMEOUT=value))
    assert_error(result, USAGE, "NEXLA_TIMEOUT")
    assert_unchanged(nx, before)


def test_an_invalid_nexla_timeout_stops_a_sign_in_before_anything_is_stored(nx):
    result = nx.run(
        "env",
        "configure",
        nx.server.host,
        "--with-token",
        input=nx.server.issue_token(),
        env=nx.env_with(NEXLA_TIMEOUT="inf"),
    )
    assert_error(result, USAGE, "NEXLA_TIMEOUT")
    assert_unchanged(nx, None)


MARGIN_CASES = [
    pytest.param(("token", "print"), value, id=f"print|{value}")
    for value in ("abc", "-5", "nan", "inf", "-inf", "10m")
] + [pytest.param(("token", "status"), value, id=f"status|{value}") for value in ("nan", "-1")]


@pytest.mark.parametrize("args, value", MARGIN_CASES)
def test_an_invalid_refresh_margin_is_refused(nx, seeded, args, value):
    result = nx.run(*args, env=nx.env_with(NEXLA_REFRESH_MARGIN=value))
    assert_error(result, USAGE, "NEXLA_REFRESH_MARGIN")
    assert_unchanged(nx, seeded)
