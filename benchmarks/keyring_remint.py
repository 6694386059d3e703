"""Re-mint benchmark: `nexla token print` on an expired session, key in the keyring vs the file.

    python benchmarks/keyring_remint.py [--rounds 15]

Needs the test extra (`pip install -e '.[test]'`), dbus-daemon and gnome-keyring-daemon: it
serves the fake Nexla API from tests/support/fake_nexla.py over real HTTPS on loopback and a real
Secret Service on a private D-Bus bus (tests/support/secret_service.py). Two config dirs hold the
same expired session with a saved key, one in the OS keyring and one in the credentials
file; each round expires both again and times one `nexla token print` (one POST /token)
in each, alternating which goes first. It prints the median and fastest wall time of each
and their ratio; it checks nothing.
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

from tests.support.fake_nexla import FakeNexla  # noqa: E402
from tests.support.secret_service import SecretService, missing_programs  # noqa: E402

KEY = "svc-benchmark-key"


def expire(config_dir: Path) -> None:
    path = config_dir / "credentials.json"
    data = json.loads(path.read_text())
    for env in data["environments"].values():
        now = int(time.time())
        env["session"].update(obtained_at=now - 4000, expires_at=now - 400)
    temp = path.with_name("bench.tmp")
    temp.write_text(json.dumps(data))
    temp.chmod(0o600)
    os.replace(temp, path)


def run(nexla: str, args: list, env: dict) -> "tuple[float, subprocess.CompletedProcess]":
    started = time.perf_counter()
    result = subprocess.run(
        [nexla, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    missing = missing_programs()
    if missing:
        sys.exit(f"needs {', '.join(missing)}")
    nexla = str(Path(sys.executable).parent / "nexla")
    service = SecretService().start()
    try:
        with FakeNexla() as server, tempfile.TemporaryDirectory() as tmp:
            server.add_service_key(KEY)
            base = {key: value for key, value in os.environ.items() if not key.startswith("NEXLA_")}
            base.update(REQUESTS_CA_BUNDLE=server.ca_bundle, NO_COLOR="1", **service.env())
            envs = {
                "keyring": dict(base, NEXLA_CONFIG_DIR=str(Path(tmp) / "keyring")),
                "file": dict(
                    base, NEXLA_CONFIG_DIR=str(Path(tmp) / "file"), NEXLA_KEY_STORAGE="file"
                ),
            }
            for name, env in envs.items():
                _, saved = run(
                    nexla,
                    ["token", "from-key", "--env", server.host, "--save-key"],
                    dict(env, NEXLA_SERVICE_KEY=KEY),
                )
                if saved.returncode != 0:
                    sys.exit(f"{name}: from-key failed: {saved.stderr}")
            times: dict = {name: [] for name in envs}
            for round_number in range(args.rounds):
                order = list(envs) if round_number % 2 == 0 else list(reversed(envs))
                for name in order:
                    expire(Path(envs[name]["NEXLA_CONFIG_DIR"]))
                    wall, result = run(nexla, ["token", "print"], envs[name])
                    if result.returncode != 0:
                        sys.exit(f"{name}: token print failed: {result.stderr}")
                    times[name].append(wall)
            mints = server.count("POST", "/token")
    finally:
        service.stop()
    print(f"re-mint by `nexla token print` on an expired session, {args.rounds} rounds each")
    print(f"({mints} POST /token in all, {len(envs)} of them by the initial from-key)")
    print(f"{'key in':10} {'median ms':>10} {'fastest ms':>11}")
    for name, walls in times.items():
        print(f"{name:10} {statistics.median(walls) * 1000:>10.0f} {min(walls) * 1000:>11.0f}")
    ratio = statistics.median(times["keyring"]) / statistics.median(times["file"])
    print(f"ratio keyring/file (medians): {ratio:.2f}")


if __name__ == "__main__":
    main()
