"""Peak-memory benchmark: `nexla api` with a large body and a long `--paginate`.

    python benchmarks/memory.py [--body-mib 256] [--pages 1000] [--rounds 1] [--nexla CMD]

Needs the test extra (`pip install -e '.[test]'`): it serves the fake Nexla API from
tests/support/fake_nexla.py over real HTTPS on loopback. It prints the peak resident memory (from
wait4() on each process) and the wall time of:

- baselines measured in the same run: `python -c pass` and `nexla --version`;
- `nexla api` of a body of --body-mib MiB, written to /dev/null;
- `nexla api` of a gzip body expanding to --body-mib MiB;
- `nexla api --paginate` over --pages pages of 100 rows each;
- `nexla token refresh` answered by a body of --body-mib MiB (refused after 1 MiB).

`--nexla` names another build to measure, e.g. an older checkout:
`PYTHONPATH=../old python benchmarks/memory.py --nexla "python -m nexla_cli"`.

It prints figures and checks nothing; tests/e2e/test_network_size.py asserts bounds.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.fake_nexla import FakeNexla, Fault  # noqa: E402
from tests.support.processes import launched, maxrss_mib  # noqa: E402

MIB = 1024 * 1024


def nexla_command() -> list:
    beside = Path(sys.executable).parent / "nexla"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "nexla_cli"]


def measure(command: list, env: dict) -> tuple:
    """(exit code, peak RSS in MiB, seconds) of one run, stdout to /dev/null.

    Through a small launcher process: a child forked from this process (which holds the
    fake server) would report this process's memory as its own peak.
    """
    with open(os.devnull, "wb") as sink, tempfile.NamedTemporaryFile("r") as rss:
        started = time.monotonic()
        code = subprocess.call(
            launched(command, rss.name),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        seconds = time.monotonic() - started
        peak = maxrss_mib(int(rss.read() or 0))
    return code, peak, seconds


def seed_store(config_dir: Path, server: FakeNexla, token: str, left: int) -> None:
    now = int(time.time())
    session = {
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
    data = {
        "version": 2,
        "current": server.host,
        "environments": {server.host: {"api_url": server.api_url, "session": session}},
    }
    path.write_text(json.dumps(data))
    os.chmod(path, 0o600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--body-mib", type=int, default=256)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--nexla", help="command that runs nexla (default: the installed one)")
    args = parser.parse_args()
    nexla = shlex.split(args.nexla) if args.nexla else nexla_command()

    with FakeNexla() as server, tempfile.TemporaryDirectory() as tmp:
        token = server.issue_token(lifetime=86400)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("NEXLA_") and "PROXY" not in key.upper()
        }
        env.update(
            REQUESTS_CA_BUNDLE=server.ca_bundle,
            NEXLA_CONFIG_DIR=str(Path(tmp) / "config"),
            NO_COLOR="1",
        )
        with_token = dict(env, NEXLA_ACCESS_TOKEN=token, NEXLA_API_URL=server.api_url)
        size = args.body_mib * MIB

        def large_body():
            server.add_fault("GET", "/teams", Fault.huge(size, b"[", "application/octet-stream"))

        def gzip_body():
            server.add_fault("GET", "/teams", Fault.gzip_bomb(size))

        def pages():
            server.data_source_count = args.pages * 100

        def huge_refresh():
            seed_store(Path(tmp) / "config", server, server.issue_token(), left=60)
            server.add_fault("POST", "/token/refresh", Fault.huge(size, b'{"access_token": "'))

        cases = [
            ("python -c pass", [sys.executable, "-c", "pass"], env, None),
            ("nexla --version", [*nexla, "--version"], env, None),
            (
                f"nexla api, {args.body_mib} MiB body",
                [*nexla, "api", "/teams"],
                with_token,
                large_body,
            ),
            (
                f"nexla api, gzip body to {args.body_mib} MiB",
                [*nexla, "api", "/teams"],
                with_token,
                gzip_body,
            ),
            (
                f"nexla api --paginate, {args.pages} pages of 100",
                [*nexla, "api", "/data_sources", "--paginate"],
                with_token,
                pages,
            ),
            (
                f"nexla token refresh, {args.body_mib} MiB answer",
                [*nexla, "token", "refresh"],
                env,
                huge_refresh,
            ),
        ]
        print(f"{'case':<44} {'exit':>4} {'peak RSS MiB':>13} {'seconds':>8}")
        for round_number in range(args.rounds):
            for label, command, run_env, prepare in cases:
                server.clear_faults()
                if prepare is not None:
                    prepare()
                code, peak, seconds = measure(command, run_env)
                print(f"{label:<44} {code:>4} {peak:>13.1f} {seconds:>8.2f}", flush=True)
            if round_number + 1 < args.rounds:
                print()


if __name__ == "__main__":
    main()
