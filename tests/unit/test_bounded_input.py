"""The unit tier of tests/app/test_bounded_input.py, whose docstring says what is promised: the
pure functions behind its promises, called directly: no server, no run of the app."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.core import inputs
from nexla_cli.core.errors import UsageError

# ---- the reader, in-process ----------------------------------------------------------------


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.delivered = 0

    def readline(self, size: int = -1) -> bytes:  # what inputs.first_line calls
        line = super().readline(size)
        self.delivered += len(line)
        return line


@pytest.mark.parametrize(
    "data",
    [b"x" * 10_000_000, b"\n" * 10_000_000, b" " * 10_000_000 + b"\n"],
    ids=["x", "nl", "sp"],
)
def test_first_line_reads_no_further_than_the_bound(data):
    stream = CountingStream(data)
    with pytest.raises(UsageError):
        inputs.first_line(stream, "token")
    assert stream.delivered <= 2 * inputs.MAX_INPUT_BYTES + inputs.MAX_INPUT_BYTES + 3


def test_first_line_takes_the_first_non_blank_line_and_stops():
    stream = CountingStream(b"\n  \r\n tok-abc \r\nsecond line\n")
    assert inputs.first_line(stream, "token") == "tok-abc"
    assert stream.read() == b"second line\n"


def test_a_token_of_exactly_16_kib_is_taken():
    token = "t" * inputs.MAX_INPUT_BYTES
    assert inputs.first_line(io.BytesIO(token.encode() + b"\r\n"), "token") == token


@given(st.binary(max_size=200))
def test_any_input_ends_in_a_line_or_a_usage_error(data):
    try:
        line = inputs.first_line(io.BytesIO(data), "token")
    except UsageError:
        return
    assert line == line.strip() and "\n" not in line
