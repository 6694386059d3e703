"""Crowd benchmark: many `nexla token print` at once on a token that is due for refresh.

    python benchmarks/crowd.py [--processes 12] [--rounds 3] [--timeout 3]

Needs the test extra (`pip install -e '.[test]'`): it serves the fake Nexla API from
tests/support/fake_nexla.py over real HTTPS on loopback. For each round it prints, for three cases,
how many refresh requests the server received and how long the crowd took:

- healthy: refresh answered after a 1 s server-side delay; all must print one new token;
- hanging: refresh never answered; the token is still valid, so all print it with a warning;
- failing: refresh answers 500 and the token has expired; all exit 5.

It prints figures and checks nothing; the tests assert the same claims with bounds.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.fake_nexla import FakeNexla, Fault  # noqa: E402


def seed(config_dir: Path, server: FakeNexla, token: str, *, left: int) -> None:
    now = int(time.time())
    record = {
        "access_token": token,
        "token_type": "Bearer",
        "obtained_at": now + left - 3600,
        "expires_at": now + left,
        "expires_estimated": False,
        "source": "refreshed",
        "user": {"id": 42, "email": "ada@example.com", "full_name": "Ada Lovelace"},
        "org": None,
    }
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = config_dir / "credentials.json"
    path.write_text(
        json.dumps(
            {
                "version": 2,
                "current": server.host,
                "environments": {server.host: {"api_url": server.api_url, "session": record}},
            }
        )
    )
    os.chmod(path, 0o600)


def crowd(nexla: str, env: dict, processes: int) -> tuple:
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [nexla, "token", "print"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    results = [(p.wait(), p.stdout.read(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    return time.monotonic() - started, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=3.0, help="NEXLA_TIMEOUT for the crowd")
    args = parser.parse_args()
    nexla = str(Path(sys.executable).parent / "nexla")
    cases = {
        "healthy": (Fault.delay(1.0), 120),  # due: 2 min left of 60
        "hanging": (Fault.hang(60), 120),
        "failing": (Fault.status(500, "db down"), -10),  # expired
    }
    print(f"{args.processes} processes, NEXLA_TIMEOUT={args.timeout:g}, {args.rounds} rounds")
    print(f"{'case':10} {'refresh requests':>17} {'wall s':>8}  exit codes")
    for name, (fault, left) in cases.items():
        walls = []
        for _ in range(args.rounds):
            with FakeNexla() as server, tempfile.TemporaryDirectory() as tmp:
                token = server.issue_token(lifetime=max(left, 1))
                seed(Path(tmp) / "config", server, token, left=left)
                server.add_fault("POST", "/token/refresh", fault, times=None)
                env = {
                    key: value for key, value in os.environ.items() if not key.startswith("NEXLA_")
                }
                env.update(
                    NEXLA_CONFIG_DIR=str(Path(tmp) / "config"),
                    REQUESTS_CA_BUNDLE=server.ca_bundle,
                    NEXLA_TIMEOUT=f"{args.timeout:g}",
                    NO_COLOR="1",
                )
                wall, results = crowd(nexla, env, args.processes)
                walls.append(wall)
                codes = sorted({code for code, _, _ in results})
                tokens = {out.strip() for code, out, _ in results if code == 0}
                refreshes = server.count("POST", "/token/refresh")
                print(
                    f"{name:10} {refreshes:>17} {wall:>8.2f}  {codes}"
                    + (f", {len(tokens)} distinct token(s) printed" if tokens else "")
                )
        print(f"{name:10} {'median':>17} {statistics.median(walls):>8.2f}")


if __name__ == "__main__":
    main()
