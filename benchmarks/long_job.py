"""Long-job benchmark: a Python job calling the API for many session lifetimes, five ways.

    python benchmarks/long_job.py [--lifetime 2] [--lifetimes 5] [--processes 3] [--threads 4]

Needs the test extra (`pip install -e '.[test]'`, which brings Nexla's SDK): it serves the fake
Nexla API from tests/support/fake_nexla.py over real HTTPS on loopback, issuing sessions of
--lifetime seconds, and runs a job of back-to-back calls (GET /users/current) for --lifetimes
of them, each of these ways in turn, on a store signed in afresh:

- SDK, exported token: `NexlaClient(access_token=…)` given the token `nexla token export`
  would export once at the start (the SDK assumes it lives a day and never renews it);
- SDK, service key: `NexlaClient(service_key=…)`, which mints a session itself whenever its
  token has less than token_refresh_margin (an hour) left: here, before every call;
- `nexla_cli.sdk_client()`: the SDK with a live token from the CLI's store;
- requests with `nexla_cli.NexlaAuth()`;
- a crowd: --processes processes of --threads threads each, sharing one NexlaAuth per
  process and the session through the CLI (tests/support/python_api.py's job).

For each it prints the calls made, the calls that failed, and the renewals: POST /token and
POST /token/refresh in the server's log while the job ran. It prints figures and checks
nothing; tests/app/test_python_api.py and tests/e2e/test_python_api_crowd.py assert the
claims with bounds.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.fake_nexla import FakeNexla  # noqa: E402

SERVICE_KEY = "benchmark-service-key"
PATH = "/users/current"


def sign_in(config_dir: Path, server: FakeNexla, lifetime: int) -> str:
    """A store signed in to `server` with a new session of `lifetime` seconds."""
    token = server.issue_token(lifetime=lifetime)
    now = int(time.time())
    record = {
        "access_token": token,
        "token_type": "Bearer",
        "obtained_at": now,
        "expires_at": now + lifetime,
        "expires_estimated": False,
        "source": "refreshed",
        "user": {"id": 42, "email": "ada@example.com", "full_name": "Ada Lovelace"},
        "org": None,
    }
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = config_dir / "credentials.json"
    environments = {server.host: {"api_url": server.api_url, "session": record}}
    store = {"version": 2, "current": server.host, "environments": environments}
    path.write_text(json.dumps(store))
    os.chmod(path, 0o600)
    return token


def run_calls(call: Callable[[], object], seconds: float) -> dict:
    counts = {"calls": 0, "failed": 0}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            call()
        except Exception:  # a failed call is a figure here, whatever it raised
            counts["failed"] += 1
        counts["calls"] += 1
    return counts


def sdk_exported_token(server: FakeNexla, seconds: float) -> dict:
    from nexla_sdk import NexlaClient

    exported = subprocess.run(
        [str(Path(sys.executable).parent / "nexla"), "token", "export", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    token = json.loads(exported)["NEXLA_ACCESS_TOKEN"]
    client = NexlaClient(access_token=token, base_url=server.api_url)
    return run_calls(lambda: client.request("GET", PATH), seconds)


def sdk_service_key(server: FakeNexla, seconds: float) -> dict:
    from nexla_sdk import NexlaClient

    client = NexlaClient(service_key=SERVICE_KEY, base_url=server.api_url)
    return run_calls(lambda: client.request("GET", PATH), seconds)


def sdk_client(server: FakeNexla, seconds: float) -> dict:
    import nexla_cli

    client = nexla_cli.sdk_client()
    return run_calls(lambda: client.request("GET", PATH), seconds)


def requests_nexla_auth(server: FakeNexla, seconds: float) -> dict:
    import requests

    import nexla_cli

    with requests.Session() as session:
        session.auth = nexla_cli.NexlaAuth()
        return run_calls(
            lambda: session.get(server.api_url + PATH, timeout=10).raise_for_status(), seconds
        )


def crowd(processes: int, threads: int) -> Callable[[FakeNexla, float], dict]:
    def run(server: FakeNexla, seconds: float) -> dict:
        jobs = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.support.python_api", "NexlaAuth", str(seconds)]
                + [str(threads)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(processes)
        ]
        counts = [json.loads(job.communicate()[0]) for job in jobs]
        return {key: sum(count[key] for count in counts) for key in ("calls", "failed")}

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifetime", type=int, default=2, help="seconds a session lives")
    parser.add_argument("--lifetimes", type=int, default=5, help="how long each job runs")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    seconds = args.lifetime * args.lifetimes
    ways = {
        "SDK, exported token": sdk_exported_token,
        "SDK, service key": sdk_service_key,
        "sdk_client()": sdk_client,
        "requests + NexlaAuth": requests_nexla_auth,
        f"crowd: {args.processes} x {args.threads} threads": crowd(args.processes, args.threads),
    }
    print(f"sessions of {args.lifetime} s; each job {seconds} s ({args.lifetimes} lifetimes)")
    print(f"{'way':28} {'calls':>7} {'failed':>7} {'renewals':>9} {'per lifetime':>13}")
    with FakeNexla() as server, tempfile.TemporaryDirectory() as tmp:
        server.default_lifetime = args.lifetime
        server.add_service_key(SERVICE_KEY)
        os.environ.update(
            NEXLA_CONFIG_DIR=str(Path(tmp) / "config"),
            REQUESTS_CA_BUNDLE=server.ca_bundle,
            PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
            NO_COLOR="1",
        )
        for name in [n for n in os.environ if n.startswith("NEXLA_") and n != "NEXLA_CONFIG_DIR"]:
            del os.environ[name]
        for name, way in ways.items():
            sign_in(Path(tmp) / "config", server, args.lifetime)
            server.clear_log()
            started = time.monotonic()
            counts = way(server, seconds)
            lifetimes = (time.monotonic() - started) / args.lifetime
            renewals = server.count("POST", "/token") + server.count("POST", "/token/refresh")
            print(
                f"{name:28} {counts['calls']:>7} {counts['failed']:>7} {renewals:>9} "
                f"{renewals / lifetimes:>13.2f}"
            )


if __name__ == "__main__":
    main()
