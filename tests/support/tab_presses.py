"""TAB presses answered in this process, as main.main answers them, and the store of names
the completion tests press TAB against."""

import io
import os
import subprocess
import sys

import pytest

from nexla_cli.fast import fastcomplete
from nexla_cli.fast.commandtable import COMMANDS
from tests.support.startup import seed_store, session_record

NAMES = ["dataops.nexla.io", "localhost:8443", "[::1]:8443"]

# From the completion table: the commands with an option whose value is an environment name
# (--env/-e), and those whose argument is one (`env use NAME`).
ENV_OPTION_COMMANDS = sorted(
    path
    for path, (_, _, _, options, _) in COMMANDS.items()
    if any(option[-1] == "environment names" for option in options)
)
NAME_ARGUMENT_COMMANDS = sorted(
    path
    for path, (_, _, _, _, arguments) in COMMANDS.items()
    if any(completer == "environment names" for _, completer in arguments)
)


def seed_names(nx):
    """Three environments besides the fake server's; none of their URLs is ever called.

    The working directory holds files whose names start like the words typed, so a shell
    that fell back to completing files would show it.
    """
    environments = {name: None for name in NAMES}
    environments[nx.server.host] = (nx.server.api_url, session_record("tok-a", left=3000))
    seed_store(nx.config_dir, environments, "dataops.nexla.io")
    for name in ("zzz-notes.txt", "dat-file.txt", "localfile.txt"):
        (nx.tmp_path / name).write_text("")
    return nx


def tab_press(nx, variables: dict, answered_by: str = "nexla") -> tuple:
    """(exit code, stdout, stderr) of one TAB press: `nexla` run with nx's environment and
    `variables`, in its working directory, stdin empty; answered as main.main does
    (`answered_by="nexla"`: the fast completion, else Typer's), or by the fast completion
    alone ("fast": exit code None when it does not answer) or by Typer alone ("typer")."""
    stdin = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    environment = dict(nx.env, **variables)
    with pytest.MonkeyPatch.context() as patch:
        for name in set(os.environ) - set(environment):
            patch.delenv(name)
        for name, value in environment.items():
            patch.setenv(name, value)
        patch.chdir(nx.tmp_path)
        patch.setattr(sys, "stdin", stdin)
        patch.setattr(sys, "stdout", stdout)
        patch.setattr(sys, "stderr", stderr)
        code = _answer(variables["_NEXLA_COMPLETE"], answered_by)
        stdout.flush()
        stderr.flush()
    return (code, _text(stdout), _text(stderr))


def _answer(instruction: str, answered_by: str) -> int | None:
    if answered_by != "typer":
        code = fastcomplete.complete(instruction)
        if code is not None or answered_by == "fast":
            return code
    from nexla_cli.cli.completion import register
    from nexla_cli.cli.root import run
    from nexla_cli.deps import Deps

    register()
    try:
        return run([], Deps.from_process())
    except SystemExit as exc:  # Typer ends a completion with sys.exit
        return 0 if exc.code is None else exc.code


def _text(stream: io.TextIOWrapper) -> str:
    # As subprocess.run(text=True) reads a child's output.
    return stream.buffer.getvalue().decode("utf-8").replace("\r\n", "\n")  # type: ignore[attr-defined]


def complete(nx, shell: str, **variables) -> subprocess.CompletedProcess:
    """`_NEXLA_COMPLETE=complete_SHELL nexla` with `variables`, as a finished run."""
    code, stdout, stderr = tab_press(nx, {"_NEXLA_COMPLETE": f"complete_{shell}", **variables})
    return subprocess.CompletedProcess(["nexla"], code, stdout, stderr)


def bash_variables(line: str) -> dict:
    """COMP_WORDS and COMP_CWORD for completing the last word of `line`, as bash's script
    sends them (words already glued back together at `:` and `=`)."""
    words = line.split(" ")
    return {"COMP_WORDS": "\n".join(words), "COMP_CWORD": str(len(words) - 1)}


PROTOCOLS = ["bash", "zsh", "fish get-args", "fish is-args", "powershell"]


def protocol_variables(protocol: str, line: str) -> dict:
    """What each shell's script sets when TAB is pressed at the end of `line`."""
    shell, _, action = protocol.partition(" ")
    variables = {"_NEXLA_COMPLETE": f"complete_{shell}"}
    if shell == "bash":
        variables.update(bash_variables(line))
    elif shell == "powershell":
        # $commandAst.ToString() has no trailing blank; $wordToComplete is the last word.
        word = "" if line.endswith(" ") else line.rsplit(" ", 1)[-1]
        variables.update(_TYPER_COMPLETE_ARGS=line.rstrip(" "))
        variables.update(_TYPER_COMPLETE_WORD_TO_COMPLETE=word)
    else:
        variables.update(_TYPER_COMPLETE_ARGS=line)
        if action:
            variables.update(_TYPER_COMPLETE_FISH_ACTION=action)
    return variables
