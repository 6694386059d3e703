"""TAB benchmark: one press of TAB, against `gh __complete` in the same run.

    python benchmarks/tab.py [--runs N] [--nexla PATH]

Every TAB press runs `nexla` once with `_NEXLA_COMPLETE=complete_<shell>`, as the scripts in
completions/ do. Measured, interleaved in one run so that load on the machine hits every row
alike: `python -c pass` (the interpreter's own start), and three kinds of TAB press, each as
bash and as zsh ask for it (zsh's answer carries the help one-liners it shows):

- environment names: `nexla env use <TAB>`;
- commands: `nexla env u<TAB>` (bash), `nexla <TAB>` (zsh);
- options: `nexla token print --<TAB>`;

all answered by nexla_cli/fast/fastcomplete.py where it can, else through Typer. With `gh`
installed, GitHub CLI's own TAB presses run in the same loop, as its scripts run them at
every TAB: `gh __complete auth ''` (its `auth` subcommands, with descriptions) and
`gh __complete auth login --` (the options of `gh auth login`, with descriptions). Prints
medians, spreads and each row's ratio to the gh press of its kind (names and commands to
`gh __complete auth ''`, options to `gh __complete auth login --`).

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

        def zsh(line):
            return dict(env, _NEXLA_COMPLETE="complete_zsh", _TYPER_COMPLETE_ARGS=line)

        gh = shutil.which("gh")
        gh_env = dict(env, GH_CONFIG_DIR=os.path.join(home, "gh"), GH_NO_UPDATE_NOTIFIER="1")
        # (label, argv, environment, expected in stdout, the gh row it is compared to)
        cases = [
            ("python -c pass", [python, "-c", "pass"], env, b"", None),
            (NAMES_BASH, [nexla], bash(["nexla", "env", "use", ""]), b"8443", GH_COMMANDS),
            ("names: env use <TAB> (zsh)", [nexla], zsh("nexla env use "), b"8443", GH_COMMANDS),
            (COMMANDS_BASH, [nexla], bash(["nexla", "env", "u"]), b"use", GH_COMMANDS),
            ("commands: <TAB> (zsh)", [nexla], zsh("nexla "), b'"token":"', GH_COMMANDS),
            (
                OPTIONS_BASH,
                [nexla],
                bash(["nexla", "token", "print", "--"]),
                b"--min-ttl",
                GH_OPTIONS,
            ),
            (
                "options: token print --<TAB> (zsh)",
                [nexla],
                zsh("nexla token print --"),
                b'"--min-ttl":"',
                GH_OPTIONS,
            ),
        ]
        if gh:
            cases.append((GH_COMMANDS, [gh, "__complete", "auth", ""], gh_env, b"login", None))
            cases.append(
                (GH_OPTIONS, [gh, "__complete", "auth", "login", "--"], gh_env, b"--web", None)
            )

        for label, argv, case_env, expected, _ in cases:
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
            for label, argv, case_env, _expected, _ in cases:
                wall, cpu, _ = run_once(argv, case_env)
                times[label].append(wall)
                cpu_times[label].append(cpu)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    report(args, python, nexla, cases, times, cpu_times)


NAMES_BASH = "names: env use <TAB> (bash)"
COMMANDS_BASH = "commands: env u<TAB> (bash)"
OPTIONS_BASH = "options: token print --<TAB> (bash)"
GH_COMMANDS = "gh __complete auth ''"
GH_OPTIONS = "gh __complete auth login --"


def report(args, python, nexla, cases, times, cpu_times):
    medians = {label: statistics.median(values) * 1000 for label, values in times.items()}
    cpus = {label: statistics.median(values) * 1000 for label, values in cpu_times.items()}
    compared_to = {label: gh_label for label, *_, gh_label in cases}
    has_gh = GH_COMMANDS in medians
    base = medians["python -c pass"]
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
    print(
        "wall: median, and the middle half of the runs (25th-75th percentile); cpu: median\n"
        "user+system time of the process; ÷ gh: the median over the gh press of its kind"
    )
    header = f"{'command':<38} {'wall':>8} {'25%-75%':>15} {'÷ pass':>7}"
    print(header + (f" {'÷ gh':>6}" if has_gh else "") + f"   {'cpu':>7}")
    for label, values in times.items():
        low, _, high = statistics.quantiles(values, n=4)
        line = (
            f"{label:<38} {medians[label]:6.1f}ms {low * 1000:6.1f}-{high * 1000:6.1f}ms"
            f" {medians[label] / base:6.2f}x"
        )
        if has_gh:
            gh_label = compared_to[label]
            line += f" {medians[label] / medians[gh_label]:5.2f}x" if gh_label else " " * 7
        print(line + f"   {cpus[label]:5.1f}ms")
    print()
    if has_gh:
        for kind, label in (
            ("names", NAMES_BASH),
            ("commands", COMMANDS_BASH),
            ("options", OPTIONS_BASH),
        ):
            gh_label = compared_to[label]
            print(
                f"TAB on {kind} ÷ {gh_label}: {medians[label] / medians[gh_label]:.2f}x wall, "
                f"{cpus[label] / cpus[gh_label]:.2f}x cpu (aim: <= 1.0x)"
            )
    else:
        print("gh __complete: skipped (gh is not installed; e.g. `apt-get install gh`)")


if __name__ == "__main__":
    main()
