"""What the HTTP client takes from the environment (README.md, "Environment variables";
docs/network.md, "Proxies and CA bundles"): REQUESTS_CA_BUNDLE, HTTPS_PROXY and NO_PROXY as
requests honours them, read from the run's variables, and never by writing to the
process's environment."""

from __future__ import annotations

import os
import threading

from nexla_cli.http import client

URL = "https://api.example.com/nexla-api/users/current"


def test_a_runs_variables_name_its_proxy_lower_case_first_and_no_proxy_exempts():
    assert client.environment_settings(URL, {"HTTPS_PROXY": "http://p:1"})["proxies"] == {
        "https": "http://p:1"
    }
    # An empty lower-case variable clears the upper-case one, as urllib reads them.
    cleared = {"HTTPS_PROXY": "http://p:1", "https_proxy": ""}
    assert client.environment_settings(URL, cleared)["proxies"] == {}
    exempt = {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "example.com"}
    assert client.environment_settings(URL, exempt)["proxies"] == {}
    bundle = {"REQUESTS_CA_BUNDLE": "/ca.pem", "CURL_CA_BUNDLE": "/other.pem"}
    assert client.environment_settings(URL, bundle)["verify"] == "/ca.pem"
    assert client.environment_settings(URL, {})["verify"] is True


def test_the_process_environment_is_read_as_requests_reads_it_and_never_written(monkeypatch):
    """Many threads at once (`env list --check`): no_proxy is never set in os.environ."""
    monkeypatch.setenv("HTTPS_PROXY", "http://p:1")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    seen: list = []

    def ask() -> None:
        for _ in range(200):
            seen.append(client.environment_settings(URL, os.environ)["proxies"])
            assert "no_proxy" not in os.environ

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen and all(proxies.get("https") == "http://p:1" for proxies in seen)
    assert "no_proxy" not in os.environ
