"""TAB benchmark: one press of TAB, against `gh __complete` in the same run.

    python benchmarks/tab.py [--runs N] [--nexla PATH]

Every TAB press runs `nexla` once with `_NEXLA_COMPLETE=complete_<shell>`, as the scripts in
completions/ do. Measured, interleaved in one run so that load on the machine hits every row
alike: `python -c pass` (the interpreter's own start), environment names as bash and zsh ask
for them (`nexla env use <TAB>`, answered by nexla_cli/fast/fastcomplete.py without Typer), a
subcommand (`nexla env u<TAB>`, answered through Typer), and `gh __complete auth ''` (GitHub
CLI completing its `auth` subcommands, which is what its own scripts run at every TAB) when
`gh` is installed. Prints medians and the ratio to gh.

It is a benchmark, not a test: it checks no thresholds, but it does check that each command
gives the expected answer before timing it.
"""

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile

from startup import (
    ENV_NAME,
    config_dir,
    editable_install,
    machine,
    nexla_script,
    run_once,
    script_interpreter,
    seed_store,
)


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
        # The store where most users have it: no NEXLA_CONFIG_DIR, the platform's config dir.
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("NEXLA_", "_NEXLA_", "COMP_", "_TYPER_", "GH_", "XDG_"))
        }
        env.update(HOME=home, NO_COLOR="1")
        seed_store(config_dir(python, env))

        def bash(words):
            return dict(
                env,
                _NEXLA_COMPLETE="complete_bash",
                COMP_WORDS="\n".join(words),
                COMP_CWORD=str(len(words) - 1),
            )

        zsh = dict(env, _NEXLA_COMPLETE="complete_zsh", _TYPER_COMPLETE_ARGS="nexla env use ")
        cases = [
            ("python -c pass", [python, "-c", "pass"], env, b""),
            ("nexla env use <TAB> (bash)", [nexla], bash(["nexla", "env", "use", ""]), b"8443"),
            ("nexla env use <TAB> (zsh)", [nexla], zsh, b"_arguments"),
            ("nexla env u<TAB> (Typer)", [nexla], bash(["nexla", "env", "u"]), b"use"),
        ]
        gh = shutil.which("gh")
        if gh:
            gh_env = dict(env, GH_CONFIG_DIR=os.path.join(home, "gh"), GH_NO_UPDATE_NOTIFIER="1")
            cases.append(
                ("gh __complete auth ''", [gh, "__complete", "auth", ""], gh_env, b"login")
            )

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
    cpus = {label: statistics.median(values) * 1000 for label, values in cpu_times.items()}
    base = medians["python -c pass"]
    gh_ms = medians.get("gh __complete auth ''")
    gh_cpu = cpus.get("gh __complete auth ''")
    print(f"machine: {machine()}")
    print(f"python:  {python} ({platform.python_version()})")
    print(f"nexla:   {nexla}")
    print(f"store:   {ENV_NAME} and localhost:8443, in the platform's config directory")
    print(f"runs:    {args.runs} of each, interleaved, after {args.warmup} warm-up runs")
    if editable_install(python):
        print(
            "note:    an editable install (pip install -e): its .pth import hook runs at every\n"
            "         start of this Python, the baselines included; `pip install .` to measure\n"
            "         what users get"
        )
    print()
    print("wall: median and minimum elapsed time; cpu: median user+system time of the process")
    header = f"{'command':<30} {'wall':>8} {'min':>8} {'÷ pass':>7}"
    print(header + (f" {'÷ gh':>6}" if gh_ms else "") + f"   {'cpu':>7}")
    for label, values in times.items():
        line = (
            f"{label:<30} {medians[label]:6.1f}ms {min(values) * 1000:6.1f}ms"
            f" {medians[label] / base:6.2f}x"
        )
        line += f" {medians[label] / gh_ms:5.2f}x" if gh_ms else ""
        print(line + f"   {cpus[label]:5.1f}ms")
    print()
    if gh_ms:
        label = "nexla env use <TAB> (bash)"
        print(
            f"TAB on environment names ÷ gh __complete: {medians[label] / gh_ms:.2f}x wall, "
            f"{cpus[label] / gh_cpu:.2f}x cpu (aim: <= 1.0x)"
        )
    else:
        print("gh __complete: skipped (gh is not installed; e.g. `apt-get install gh`)")


if __name__ == "__main__":
    main()
