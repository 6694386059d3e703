"""Secrets are read with a bound (docs/storage.md, "Reading secrets").

A token, key or pasted input longer than 16 KiB is refused (exit 2) without reading on:
`--key-file /dev/zero` or an endless stdin end at once instead of filling memory. A pipe or
FIFO is read up to its first non-blank line, so a writer that keeps it open is fine.
"""

from __future__ import annotations

import io
import os
import shlex
import subprocess
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli import inputs
from nexla_cli.errors import UsageError
from tests.conftest import nexla_executable
from tests.outcomes import assert_error, describe
from tests.signing_in import seed

USAGE = 2
PROMPTLY = 30  # a hang or an out-of-memory read is what is ruled out, not slowness


def test_a_key_file_that_never_ends_is_refused(nx):
    result = nx.run(
        "token", "from-key", "--env", nx.server.host, "--key-file", "/dev/zero", timeout=PROMPTLY
    )
    assert_error(result, USAGE, "16 KiB")
    assert nx.server.count() == 0


@pytest.mark.e2e  # an endless stdin from a shell pipeline
@pytest.mark.parametrize("source", ["/dev/zero", "yes ''", "yes tok"])
def test_an_endless_stdin_is_refused(nx, source):
    seed(nx)
    feed = f"< {source}" if source.startswith("/") else None
    line = f"{shlex.quote(nexla_executable())} env login --env {nx.server.host} --with-token"
    line = f"{line} {feed}" if feed else f"{source} | {line}"
    result = subprocess.run(
        ["sh", "-c", line], env=nx.env, capture_output=True, text=True, timeout=PROMPTLY
    )
    if source == "yes tok":  # endless lines: the first is the token, the rest never read
        assert_error(result, 4, "rejected")
        assert nx.server.count() == 1
        return
    assert_error(result, USAGE)
    assert nx.server.count() == 0


def test_a_key_file_fifo_written_by_someone_who_keeps_it_open_is_read(nx):
    key = "svc-from-a-fifo"
    nx.server.add_service_key(key)
    fifo = nx.tmp_path / "key.fifo"
    os.mkfifo(fifo, 0o600)
    done = threading.Event()

    def writer() -> None:
        with open(fifo, "w") as handle:
            handle.write(key + "\n")
            handle.flush()
            done.wait(PROMPTLY)  # keeps its end open until nexla has finished

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        result = nx.run(
            "token",
            "from-key",
            "--env",
            nx.server.host,
            "--key-file",
            fifo,
            "--print",
            timeout=PROMPTLY,
        )
    finally:
        done.set()
        thread.join(PROMPTLY)
    assert result.returncode == 0, describe(result)
    assert result.stdout == nx.server.issued[-1] + "\n"


def test_a_key_file_over_the_bound_is_refused(nx):
    big = nx.tmp_path / "big.key"
    big.write_text("k" * (40 * 1024))
    result = nx.run("token", "from-key", "--env", nx.server.host, "--key-file", big)
    assert_error(result, USAGE, "16 KiB")


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
