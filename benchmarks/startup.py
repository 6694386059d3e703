"""Start-up benchmark: wall time of the commands that scripts and shells call most.

    python benchmarks/startup.py [--runs N] [--nexla PATH]

Measures, interleaved in one run so that load on the machine hits every row alike:
`python -c pass` and `python -c "import typer"` (the baselines, with the interpreter that
runs `nexla`), `nexla --version`, `nexla token print` of a fresh token (the fast path),
`nexla --help`, one TAB completion of environment names as bash asks for it, and
`gh auth token` with GH_TOKEN set when `gh` is installed. Prints medians and ratios.

It is a benchmark, not a test: it prints figures and checks no thresholds, but it does
check that each command gives the expected output before timing it.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENV_NAME = "dataops.nexla.io"
TOKEN = "bench-" + "x" * 40


def nexla_script(explicit):
    if explicit:
        return explicit
    beside = Path(sys.executable).parent / "nexla"
    if beside.exists():
        return str(beside)
    found = shutil.which("nexla")
    if not found:
        sys.exit("no `nexla` found: pip install . (or pass --nexla PATH)")
    return found


def script_interpreter(script):
    """The interpreter in the script's #! line, so baselines use the same Python."""
    try:
        with open(script, "rb") as handle:
            first = handle.readline().decode("utf-8", "replace").strip()
    except OSError:
        return sys.executable
    if first.startswith("#!") and " " not in first[2:].strip():
        return first[2:].strip()
    return sys.executable


def seed_store(directory):
    """A store with one environment whose session is fresh for an hour."""
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True)
    now = int(time.time())
    data = {
        "version": 2,
        "current": ENV_NAME,
        "environments": {
            ENV_NAME: {
                "api_url": f"https://{ENV_NAME}/nexla-api",
                "session": {
                    "access_token": TOKEN,
                    "token_type": "Bearer",
                    "obtained_at": now,
                    "expires_at": now + 3600,
                    "expires_estimated": False,
                    "source": "refreshed",
                    "user": {"id": 1, "email": "bench@example.com", "full_name": "Bench"},
                    "org": None,
                },
            },
            "localhost:8443": {"api_url": "https://localhost:8443/nexla-api"},
        },
    }
    path = directory / "credentials.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)


def config_dir(python, env):
    """Where nexla will look, asked of nexla itself with the benchmark's environment."""
    # paths.config_dir takes the run's environment since the Deps seam; older builds (the
    # baseline being compared) take none.
    code = (
        "import os\n"
        "try:\n    from nexla_cli.core import paths\n"
        "except ImportError:\n    from nexla_cli import paths\n"
        "try:\n    print(paths.config_dir(os.environ))\n"
        "except TypeError:\n    print(paths.config_dir())"
    )
    return subprocess.run(
        [python, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def editable_install(python):
    code = "import sys; print(any('__editable__' in name for name in sys.modules))"
    result = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return result.stdout.strip() == "True"


def run_once(argv, env):
    """(wall seconds, CPU seconds of the child or NaN where getrusage is missing: Windows,
    CompletedProcess)."""
    try:
        import resource
    except ImportError:
        resource = None
    before = resource.getrusage(resource.RUSAGE_CHILDREN) if resource else None
    started = time.perf_counter()
    completed = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True)
    elapsed = time.perf_counter() - started
    if resource is None:
        return elapsed, float("nan"), completed
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, completed


def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = "load average %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        load = "load average unknown"
    return f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, {load}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="timed runs of each command")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--nexla", help="the nexla executable (default: beside this Python)")
    args = parser.parse_args()

    nexla = nexla_script(args.nexla)
    python = script_interpreter(nexla)
    home = tempfile.mkdtemp(prefix="nexla-bench-")
    try:
        # No NEXLA_CONFIG_DIR or XDG_CONFIG_HOME: the store is where most users have it,
        # in the platform's user config dir for $HOME (~/.config/nexla on Linux).
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("NEXLA_", "_NEXLA_", "COMP_", "GH_", "GITHUB_", "XDG_"))
        }
        env.update(HOME=home, NO_COLOR="1")
        seed_store(config_dir(python, env))
        complete = dict(
            env, _NEXLA_COMPLETE="complete_bash", COMP_WORDS="nexla env use ", COMP_CWORD="3"
        )
        cases = [
            ("python -c pass", [python, "-c", "pass"], env, b""),
            ("python -c 'import typer'", [python, "-c", "import typer"], env, b""),
            ("nexla --version", [nexla, "--version"], env, b"nexla "),
            ("nexla token print", [nexla, "token", "print"], env, TOKEN.encode() + b"\n"),
            (
                "python -m nexla_cli token print",
                [python, "-m", "nexla_cli", "token", "print"],
                env,
                TOKEN.encode() + b"\n",
            ),
            ("nexla --help", [nexla, "--help"], env, b"Usage: nexla"),
            ("TAB: nexla env use <TAB>", [nexla], complete, ENV_NAME.encode()),
        ]
        gh = shutil.which("gh")
        if gh:
            gh_env = dict(env, GH_TOKEN="ghp_" + "x" * 36, GH_CONFIG_DIR=os.path.join(home, "gh"))
            cases.append(("gh auth token", [gh, "auth", "token"], gh_env, b"ghp_"))

        for label, argv, case_env, expected in cases:
            for _ in range(args.warmup):
                _, _, completed = run_once(argv, case_env)
            if completed.returncode != 0 or expected not in completed.stdout:
                sys.exit(
                    f"{label}: unexpected result (exit {completed.returncode})\n"
                    f"stdout: {completed.stdout[:300]!r}\nstderr: {completed.stderr[:300]!r}"
                )
        times = {label: [] for label, *_ in cases}
        cpu_times = {label: [] for label, *_ in cases}
        for _ in range(args.runs):  # interleaved: every command sees the same load
            for label, argv, case_env, _expected in cases:
                wall, cpu, _ = run_once(argv, case_env)
                times[label].append(wall)
                cpu_times[label].append(cpu)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    medians = {label: statistics.median(values) * 1000 for label, values in times.items()}
    base, typer_ms = medians["python -c pass"], medians["python -c 'import typer'"]
    print(f"machine: {machine()}")
    print(f"python:  {python} ({platform.python_version()})")
    print(f"nexla:   {nexla}")
    print(f"runs:    {args.runs} of each, interleaved, after {args.warmup} warm-up runs")
    if editable_install(python):
        print(
            "note:    an editable install (pip install -e): its .pth import hook runs at every\n"
            "         start of this Python, the baselines included; `pip install .` to measure\n"
            "         what users get"
        )
    print()
    print("wall: median and minimum elapsed time; cpu: median user+system time of the process")
    print(f"{'command':<32} {'wall':>8} {'min':>8} {'÷ pass':>7} {'÷ typer':>8}   {'cpu':>7}")
    for label, values in times.items():
        print(
            f"{label:<32} {medians[label]:6.1f}ms {min(values) * 1000:6.1f}ms"
            f" {medians[label] / base:6.2f}x {medians[label] / typer_ms:7.2f}x"
            f"   {statistics.median(cpu_times[label]) * 1000:5.1f}ms"
        )
    token_ms = medians["nexla token print"]
    print("\ntargets:")
    print(f"  token print ÷ python -c pass:   {token_ms / base:.2f}x (aim: <= 2.5x)")
    print(f"  token print ÷ import typer:     {token_ms / typer_ms:.2f}x (aim: <= 1.3x)")
    tab = medians["TAB: nexla env use <TAB>"]
    print(f"  TAB completion ÷ import typer:  {tab / typer_ms:.2f}x (aim: <= 1.3x)")
    if "gh auth token" in medians:
        print(
            f"  token print ÷ gh auth token:    {token_ms / medians['gh auth token']:.2f}x"
            " (aim: <= 1.0x)"
        )
    else:
        print("  gh auth token: skipped (gh is not installed)")


if __name__ == "__main__":
    main()
