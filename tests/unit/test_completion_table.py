"""The completion table (nexla_cli/fast/commandtable.py) is the app's commands and options,
and never drifts from them (docs/speed.md: TAB on a command or an option without Typer).

The table is written by scripts/gen_completion_table.py; this test renders it again from
the app and compares."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "gen_completion_table", ROOT / "scripts" / "gen_completion_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_completion_table_is_what_the_app_has():
    generator = load_generator()
    committed = (ROOT / "nexla_cli" / "fast" / "commandtable.py").read_text()
    assert committed == generator.render(), (
        "nexla_cli/fast/commandtable.py differs from the app's commands and options; "
        f"regenerate it with `{generator.COMMAND}` and commit the result"
    )


def test_the_table_covers_every_command_and_option_of_the_app():
    import typer.core
    import typer.main

    from nexla_cli.cli.root import app
    from nexla_cli.fast.commandtable import COMMANDS

    def walk(command, path):
        yield path, command
        if isinstance(command, typer.core.TyperGroup):
            for name, sub in command.commands.items():
                yield from walk(sub, (*path, name))

    for path, command in walk(typer.main.get_command(app), ()):
        assert path in COMMANDS, path
        listed = {name for option in COMMANDS[path][3] for name in option[0]}
        for param in command.params:
            if param.param_type_name == "option":
                assert set(param.opts) <= listed, (path, param.opts)


def test_the_value_completers_are_recorded():
    from nexla_cli.fast.commandtable import COMMANDS

    def completer(path, name):
        return next(option[-1] for option in COMMANDS[path][3] if name in option[0])

    assert completer(("token", "print"), "--env") == "environment names"
    assert completer(("token", "print"), "--min-ttl") == ""
    assert COMMANDS[("env", "use")][4] == ((1, "environment names"),)
    assert COMMANDS[("help",)][4] == ((-1, "command names"),)
    assert COMMANDS[("token", "exec")][4] == ((-1, "command line"),)
    assert COMMANDS[("token", "exec")][2] is False  # COMMAND's options are COMMAND's
