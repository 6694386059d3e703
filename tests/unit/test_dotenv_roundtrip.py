"""The unit tier of tests/app/test_dotenv_roundtrip.py, whose docstring says what is promised: the
pure functions behind its promises, called directly: no server, no run of the app."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.auth import handoff
from nexla_cli.core.errors import UsageError
from tests.support.dotenv_readers import docker_reads_back, python_dotenv, systemd_reads_back


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
    assert python_dotenv(line + "\n") == {"V": value}
    assert docker_reads_back(line, "V", value)
    assert systemd_reads_back(line, "V", value)


@given(head=_VALUE, name=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True))
def test_a_value_python_dotenv_would_expand_is_always_refused(head, name):
    with pytest.raises(UsageError):
        handoff.quote_dotenv(f"{head}${{{name}}}", "V")
