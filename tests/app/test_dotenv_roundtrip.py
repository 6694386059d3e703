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

import io
import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.auth import handoff
from nexla_cli.core import names
from nexla_cli.core.errors import UsageError
from tests.support.outcomes import assert_error, describe
from tests.support.stores import config_bytes, edit_session

dotenv = pytest.importorskip("dotenv")

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


def _python_dotenv(text: str) -> dict:
    return dict(dotenv.dotenv_values(stream=io.StringIO(text), interpolate=True))


def _docker_reads_back(line: str, name: str, value: str) -> bool:
    # Literal to the end of the line; one line; UTF-8.
    return line == f"{name}={value}" and "\n" not in line and "\r" not in line


def _systemd_reads_back(line: str, name: str, value: str) -> bool:
    # Bare: nothing escaped, not taken for a quoted value, no whitespace to drop.
    written = line.partition("=")[2]
    return (
        written == value
        and "\\" not in written
        and written[:1] not in ("'", '"')
        and written == written.strip()
    )


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
    assert _python_dotenv(result.stdout) == expected
    lines = result.stdout.splitlines()
    for line, (name, value) in zip(lines, expected.items(), strict=True):
        assert _docker_reads_back(line, name, value)
        assert _systemd_reads_back(line, name, value)


@pytest.mark.parametrize(
    "value, refused",
    [
        ("tok-AZaz09_.~+/=:@%,[]{}!&*()|;<>?^", False),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-_", False),
        ("https://dataops.nexla.io/nexla-api", False),
        ("https://h/caf\u00e9", False),
        ("${HOME}", True),
        ("a$b", True),
        ("a\\b", True),
        ("'a", True),
        ('a"', True),
        ("a`b", True),
        ("a#b", True),
        ("a b", True),
        ("a\nb", True),
        ("a\rb", True),
        ("a\tb", True),
        ("a\x1bb", True),
    ],
)
def test_dotenv_refusal(value, refused):
    assert bool(handoff.dotenv_refusal(value)) == refused


# Values as a server or a user may make them: any printable text without spaces, weighted
# towards the characters the readers treat specially.
_SPECIAL = st.sampled_from(list("${}:-'\"\\#`=~%/"))
_VALUE = st.lists(_SPECIAL | st.characters(blacklist_categories=("Cs",)), min_size=1).map("".join)


@given(value=_VALUE)
def test_a_value_is_written_so_every_reader_reads_it_back_or_refused(value):
    try:
        written = handoff.quote_dotenv(value, "V")
    except UsageError as exc:
        assert "V " in exc.message and "\n" not in exc.message
        return
    line = f"V={written}"
    assert _python_dotenv(line + "\n") == {"V": value}
    assert _docker_reads_back(line, "V", value)
    assert _systemd_reads_back(line, "V", value)


@given(head=_VALUE, name=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True))
def test_a_value_python_dotenv_would_expand_is_always_refused(head, name):
    with pytest.raises(UsageError):
        handoff.quote_dotenv(f"{head}${{{name}}}", "V")
