"""`--min-ttl SECONDS` (docs/scripting.md): a whole number of seconds from 0 to a year, the
longest session any server can grant; anything else is exit 2 before any request, for
`token print` (its fast path included), `token export` and `token exec`."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from tests.support.outcomes import assert_presentable, describe
from tests.support.stores import config_bytes, set_times

A_YEAR = 365 * 86400
COMMANDS = {
    "print": ("token", "print"),
    "export": ("token", "export"),
    "exec": ("token", "exec"),
}
BAD_VALUES = [
    "9" * 400,  # a whole number, but one no float can hold
    "9" * 5000,  # more digits than Python turns into an int
    str(A_YEAR + 1),
    str(10**12),
    "-1",
    "1e3",
    "1.5",
    "inf",
    "nan",
    "",
    " ",
]


def _argv(command: str, value: str) -> tuple[str, ...]:
    argv = (*COMMANDS[command], "--min-ttl", value)
    return (*argv, "--", "true") if command == "exec" else argv


def _signed_in(nx, *, left: float) -> None:
    nx.sign_in()
    set_times(nx, lifetime=3600, left=left, source="refreshed", expires_estimated=False)
    nx.server.clear_log()


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("value", BAD_VALUES, ids=lambda v: v[:12] or "empty")
@pytest.mark.parametrize("left", [1000, 3000], ids=["short", "fresh"])
def test_a_bad_min_ttl_is_exit_2_before_any_request(nx, command, value, left):
    # "fresh": the token print fast path would answer a good value; "short": a good value
    # would renew first.
    _signed_in(nx, left=left)
    before = config_bytes(nx)
    result = nx.run(*_argv(command, value))
    assert result.returncode == 2, describe(result)
    assert result.stdout == "" and result.stderr.startswith("error: "), describe(result)
    assert "--min-ttl" in result.stderr
    assert_presentable(result)
    assert nx.server.count() == 0
    assert config_bytes(nx) == before


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_year_is_taken_and_asked_of_the_server(nx, command):
    # The bound itself is a value like any other: one renewal, then the lifetime the server
    # grants is named (docs/scripting.md).
    _signed_in(nx, left=1000)
    result = nx.run(*_argv(command, str(A_YEAR)))
    assert result.returncode == 2, describe(result)
    assert f"--min-ttl {A_YEAR} is longer than the sessions" in result.stderr
    assert nx.server.count("POST", "/token/refresh") == 1


@pytest.mark.parametrize("value", ["0", "00", "1800"])
def test_good_values_on_the_fast_path(nx, value):
    token = nx.sign_in()
    set_times(nx, lifetime=3600, left=3000, source="refreshed", expires_estimated=False)
    nx.server.clear_log()
    result = nx.run("token", "print", "--min-ttl", value)
    assert (result.returncode, result.stdout) == (0, token + "\n"), describe(result)
    assert nx.server.count() == 0


def test_the_bound_is_the_longest_session_a_server_can_grant():
    from nexla_cli.core import model, settings

    assert settings.MAX_MIN_TTL == model.MAX_LIFETIME_SECONDS == A_YEAR


@pytest.mark.parametrize(
    "text, seconds",
    [("0", 0), ("00", 0), ("1800", 1800), (str(A_YEAR), A_YEAR), ("0" * 12, 0)],
)
def test_min_ttl_takes_plain_digits_up_to_a_year(text, seconds):
    from nexla_cli.core import settings

    assert settings.min_ttl(text) == seconds


@pytest.mark.parametrize(
    "text", [*BAD_VALUES, "+5", " 5", "5 ", "5_0", "\u00b2", "\u0661\u0662", "0" * 13, "0x10"]
)
def test_min_ttl_refuses_everything_else_in_one_short_line(text):
    from nexla_cli.core import settings
    from nexla_cli.core.errors import UsageError

    with pytest.raises(UsageError) as caught:
        settings.min_ttl(text)
    assert "--min-ttl" in caught.value.message and len(caught.value.message) < 160


@given(text=st.text(max_size=30) | st.integers(min_value=-(10**20), max_value=10**20).map(str))
def test_any_text_is_seconds_in_range_or_a_usage_error(text):
    from nexla_cli.core import settings
    from nexla_cli.core.errors import UsageError

    try:
        seconds = settings.min_ttl(text)
    except UsageError:
        assert not (text.isascii() and text.isdigit() and int(text) <= A_YEAR) or len(text) > 12
        return
    assert 0 <= seconds <= A_YEAR and seconds == int(text)
