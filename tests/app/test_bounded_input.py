"""Secrets are read with a bound (docs/storage.md, "Reading secrets").

A token, key or pasted input longer than 16 KiB is refused (exit 2) without reading on:
`--key-file /dev/zero` or an endless stdin end at once instead of filling memory. A pipe or
FIFO is read up to its first non-blank line, so a writer that keeps it open is fine.
"""

from __future__ import annotations

import os
import threading

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from tests.support.outcomes import assert_error, describe

USAGE = 2
PROMPTLY = 30  # a hang or an out-of-memory read is what is ruled out, not slowness


def test_a_key_file_that_never_ends_is_refused(nx):
    result = nx.run(
        "token", "from-key", "--env", nx.server.host, "--key-file", "/dev/zero", timeout=PROMPTLY
    )
    assert_error(result, USAGE, "16 KiB")
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
