"""TAB on a command or an option is answered without Typer, exactly as the full app answers it
(docs/speed.md; README.md, "Shell completion").

nexla_cli/fast/fastcomplete.py answers from a table generated from the app; these tests
press TAB on every command and option of the app, in every shell's protocol, and compare
its answer, byte for byte and down to the exit code, with Typer's (through
nexla_cli/cli/completion.py). The lines come from the app itself, not from the table, so a
command the table missed would show here too.
"""

import pytest
import typer.core
import typer.main

from nexla_cli.cli.root import app
from nexla_cli.fast import fastcomplete
from tests.support.tab_presses import PROTOCOLS, protocol_variables, seed_names, tab_press


@pytest.fixture
def store(nx):
    """nx with three environments besides the fake server's (tab_presses.seed_names)."""
    return seed_names(nx)


def commands():
    """(words after `nexla`, click command) for the root and every command below it."""

    def walk(command, path):
        yield path, command
        if isinstance(command, typer.core.TyperGroup):
            for name, sub in command.commands.items():
                yield from walk(sub, (*path, name))

    return list(walk(typer.main.get_command(app), ()))


def prefixes(word: str) -> list:
    return sorted({word[:1], word[:2], word[:3], word})


def command_lines() -> list:
    """TAB after every group, on every prefix of each of its commands, and on none."""
    lines = []
    for path, command in commands():
        if isinstance(command, typer.core.TyperGroup):
            line = " ".join(("nexla", *path, ""))
            lines += [line, line + "zzz"]
            lines += [line + prefix for name in command.commands for prefix in prefixes(name)]
    return lines


def option_lines() -> list:
    """TAB on `-`, `--`, every prefix of every option of every command, and after each
    option already given (click offers an option once, unless it is repeatable)."""
    lines = []
    for path, command in commands():
        line = " ".join(("nexla", *path, ""))
        lines += [line + "-", line + "--", line + "--zzz"]
        options = [param for param in command.params if param.param_type_name == "option"]
        for option in options:
            for name in option.opts:
                lines += [line + prefix for prefix in prefixes(name) if prefix != "-"]
                given = f"{name} x" if not option.is_flag else name
                lines.append(f"{line}{given} -")
                lines.append(f"{line}{given} --")
        lines += [line + "-h --", line + "--help -"]
    return lines


OTHER_LINES = [
    # `nexla help [COMMAND…]`: command names, never files
    "nexla help ",
    "nexla help t",
    "nexla help token ",
    "nexla help token r",
    "nexla help env use ",
    "nexla help bogus ",
    "nexla help zzz",
    "nexla help -",
    # `token exec`: COMMAND and its arguments are another program's
    "nexla token exec -- pyth",
    "nexla token exec -- python ",
    "nexla token exec -- python -",
    "nexla token exec --env dataops.nexla.io -- py",
    "nexla token exec --env=dataops.nexla.io -- py",
    "nexla token exec --min-ttl 60 py",
    "nexla token exec ls -",
    "nexla token exec ls --",
    "nexla token exec -e x ls -l ",
    "nexla token exec -- ",
    "nexla token exec ",
    # arguments and values with no completer of their own, and nothing left to complete
    "nexla api ",
    "nexla api /teams ",
    "nexla api --input ",
    "nexla api --method ",
    "nexla token print ",
    "nexla token print zzz",
    "nexla token print --min-ttl ",
    "nexla env use dataops.nexla.io ",
    "nexla env list ",
    # choices: names too, never files
    "nexla token export --format ",
    "nexla token export --format d",
    "nexla token export --format zzz",
    "nexla token export --format=j",
    # root options before a command
    "nexla --debug env u",
    "nexla -q token print --",
    "nexla --debug --",
]


def assert_same_answers(store, lines):
    for protocol in PROTOCOLS:
        for line in lines:
            variables = protocol_variables(protocol, line)
            fast = tab_press(store, variables, "fast")
            assert fast[0] is not None, f"{line!r} ({protocol}) was left to Typer"
            assert fast == tab_press(store, variables, "typer"), f"{line!r} ({protocol})"


def test_commands_complete_without_typer_as_the_full_app_does(store):
    assert_same_answers(store, command_lines())


def test_options_complete_without_typer_as_the_full_app_does(store):
    assert_same_answers(store, option_lines())


def test_help_and_token_exec_complete_without_typer_as_the_full_app_does(store):
    assert_same_answers(store, OTHER_LINES)


def test_the_answers_are_what_the_shells_are_told(store):
    # A few answers spelled out: the comparisons above would pass were both paths wrong alike.
    def answer(protocol, line):
        return tab_press(store, protocol_variables(protocol, line), "fast")

    no_files = fastcomplete.NO_FILES
    assert answer("bash", "nexla env u") == (0, f"{no_files}\nuse\n", "")
    assert answer("bash", "nexla help token r") == (0, f"{no_files}\nrefresh\n", "")
    assert answer("bash", "nexla help zzz") == (0, f"{no_files}\n", "")
    assert answer("bash", "nexla token print --m") == (0, f"{no_files}\n--min-ttl\n", "")
    assert answer("bash", "nexla token print --env x --e") == (0, f"{no_files}\n", "")
    assert answer("bash", "nexla api --input ") == (0, "\n", "")  # files, as bash does
    assert answer("zsh", "nexla help t") == (
        0,
        '_arguments \'*: :(("token":"Session tokens for shell jobs and scripts."))\'\n',
        "",
    )
    assert answer("fish get-args", "nexla token print --m")[1].startswith("--min-ttl\tRenew")
    assert answer("fish is-args", "nexla help zzz") == (0, "", "")
    assert answer("fish is-args", "nexla api --input ")[0] == 1  # fish offers files
    assert answer("bash", "nexla token export --format d") == (0, f"{no_files}\ndotenv\n", "")
    assert answer("zsh", "nexla token export --format zzz") == (0, "\n", "")
    assert answer("powershell", "nexla env u") == (
        0,
        "use:::Make NAME the current environment.\n",
        "",
    )
    # token exec: where COMMAND begins (`nexla` is word 0), for the shell to complete it
    assert answer("bash", "nexla token exec -- pyth") == (0, ":command 4\n", "")
    assert answer("bash", "nexla token exec -e x -- python fo") == (0, ":command 6\n", "")
    assert answer("fish get-args", "nexla token exec ls ") == (0, ":command 3\n", "")
    assert answer("zsh", "nexla token exec -- pyth") == (
        0,
        "shift 4 words; (( CURRENT -= 4 )); _normal\n",
        "",
    )
