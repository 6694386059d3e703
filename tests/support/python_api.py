"""For the tests of the Python API (docs/python.md): the CLI's environment put into this
process's own variables (the API reads os.environ, as a user's program would), a plain-HTTP
server that records what it is sent, and the job a crowd of Python processes runs."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

# What the library reads from the variables of the `nx` fixture's environment.
_PASSED_ON = ("REQUESTS_CA_BUNDLE", "PYTHON_KEYRING_BACKEND", "HOME", "NO_COLOR")


def use_environment(monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str]) -> None:
    """This process's variables as the CLI's run would have them: no NEXLA_* of the
    developer's, the test's NEXLA_* and the few others that matter."""
    for name in list(os.environ):
        if name.startswith("NEXLA_") or name.endswith("_PROXY") or name.endswith("_proxy"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("NEXLA_") or name in _PASSED_ON:
            monkeypatch.setenv(name, value)


class PlainRecorder:
    """A plain-HTTP server on loopback answering 200 `{}` to anything, keeping the
    Authorization header of each request (None when there was none)."""

    def __init__(self) -> None:
        self.authorizations: list[str | None] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
                recorder.authorizations.append(self.headers.get("Authorization"))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @contextmanager
    def serving(self) -> Iterator[PlainRecorder]:
        thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
            thread.join(5)


def job(way: str, seconds: float, threads: int, path: str = "/users/current") -> dict:
    """Calls to the API for `seconds` from `threads` threads sharing one client made `way`
    ("sdk_client" or "NexlaAuth"): how many were made and how many failed."""
    import requests

    import nexla_cli

    if way == "sdk_client":
        client = nexla_cli.sdk_client()

        def call() -> None:
            client.request("GET", path)
    else:
        auth = nexla_cli.NexlaAuth()
        session = requests.Session()
        session.auth = auth

        def call() -> None:
            session.get(auth.api_url + path, timeout=10).raise_for_status()

    counts = {"calls": 0, "failed": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def loop() -> None:
        while time.monotonic() < deadline:
            try:
                call()
                failed = 0
            except Exception:  # any failure counts; the figures are the result
                failed = 1
            with lock:
                counts["calls"] += 1
                counts["failed"] += failed

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counts


if __name__ == "__main__":
    # python -m tests.support.python_api WAY SECONDS THREADS: the counts as JSON on stdout.
    print(json.dumps(job(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]))))
