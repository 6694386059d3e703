"""Write nexla_cli/fast/commandtable.py: what TAB completes, read from the app.

    python scripts/gen_completion_table.py

Run it after adding or changing a command, an option or a help text; tests/unit/
test_completion_table.py fails while the committed table differs from what this would
write. The table lets nexla_cli/fast/fastcomplete.py answer a TAB on a command or an option
without loading Typer: for each command, the help line completion shows beside its name,
its subcommands in the order TAB offers them, and its options and arguments with the
completer of their values, each taken from the same objects Typer's completion reads.
"""

import inspect
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "nexla_cli" / "fast" / "commandtable.py"
COMMAND = "python scripts/gen_completion_table.py"

HEADER = '''"""What TAB completes, for nexla_cli/fast/fastcomplete.py to answer without Typer.

Written by `{command}` from the app; not edited by hand.
For every command (the words after `nexla`, () for the root): the help line shown beside
its name, its subcommands in the order TAB offers them (None: not a group), whether options
are still read after its first argument, its options (every name, help, how many values it
takes, whether it may be repeated, whether it is hidden, the completer of its value) and its
arguments (how many words, -1 for the rest of the line, and their completer).

Completers: "" none (the shell's own, files), "environment names", "command names" (a
command path, as `nexla help` takes), "command line" (another program's: its name, then its
own arguments), a tuple of choices, "typer" (one only Typer's completion knows).
"""
# ruff: noqa: E501

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    Completer = str | tuple[str, ...]
    Option = tuple[tuple[str, ...], str | None, int, bool, bool, Completer]
    Argument = tuple[int, Completer]
    Command = tuple[str, tuple[str, ...] | None, bool, tuple[Option, ...], tuple[Argument, ...]]

COMMANDS: dict[tuple[str, ...], Command] = {{
'''


def completer_kind(param, ctx):
    """How TAB completes this parameter's value, as Typer's completion would answer it: a
    kind (a string), or the choices themselves (a tuple)."""
    from typer._click.types import ParamType
    from typer._types import TyperChoice

    from nexla_cli.cli.commands.common import complete_env_names, complete_org_names
    from nexla_cli.cli.root import complete_command_names

    custom = param._custom_shell_complete
    if custom is not None:
        # Typer keeps the function given as `autocompletion` in a closure, itself wrapped.
        wrapped = [inspect.unwrap(cell.cell_contents) for cell in custom.__closure__ or ()]
        if complete_env_names in wrapped:
            return "environment names"
        if complete_org_names in wrapped:
            return "org names"
        if complete_command_names in wrapped:
            return "command names"
        return "typer"
    if isinstance(param.type, TyperChoice) and param.type.case_sensitive:
        return tuple(str(choice) for choice in param.type.choices)
    if type(param.type).shell_complete is not ParamType.shell_complete:
        return "typer"  # paths, and whatever else completes by its type
    if param.param_type_name == "argument" and param.nargs == -1:
        if not ctx.allow_interspersed_args:
            return "command line"  # `token exec COMMAND [ARGS]...`: another program's words
    return ""


def command_entries() -> list:
    """(path, entry) for the root and every command below it, in the order TAB lists them."""
    import typer.core
    import typer.main
    from typer._click.shell_completion import _resolve_context

    from nexla_cli.cli.root import app

    root = typer.main.get_command(app)
    entries = []

    def walk(path):
        # The context completion itself builds for these words: same help options, same
        # parsing settings.
        ctx = _resolve_context(root, {}, "nexla", list(path))
        command = ctx.command
        subcommands = None
        if isinstance(command, typer.core.TyperGroup):
            subcommands = tuple(
                name
                for name in command.list_commands(ctx)
                if not command.get_command(ctx, name).hidden
            )
        options, arguments = [], []
        for param in command.get_params(ctx):
            kind = completer_kind(param, ctx)
            if param.param_type_name == "argument":
                arguments.append((param.nargs, kind))
                continue
            takes_value = 0 if param.is_flag or param.count else param.nargs
            names = (*param.opts, *param.secondary_opts)
            options.append((names, param.help, takes_value, param.multiple, param.hidden, kind))
        help_line = command.get_short_help_str()
        entry = (help_line, subcommands, ctx.allow_interspersed_args, options, arguments)
        entries.append((path, entry))
        if isinstance(command, typer.core.TyperGroup):
            for name in command.list_commands(ctx):
                walk((*path, name))

    walk(())
    return entries


def render() -> str:
    lines = [HEADER.format(command=COMMAND)]
    for path, (help_line, subcommands, interspersed, options, arguments) in command_entries():
        lines.append(f"    {path!r}: (\n")
        lines.append(f"        {help_line!r},\n")
        lines.append(f"        {subcommands!r},\n")
        lines.append(f"        {interspersed!r},\n")
        lines.append("        (\n")
        lines.extend(f"            {option!r},\n" for option in options)
        lines.append("        ),\n")
        lines.append(f"        {tuple(arguments)!r},\n")
        lines.append("    ),\n")
    lines.append("}\n")
    return "".join(lines)


def main() -> None:
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    TABLE.write_text(render())
    print(f"wrote {TABLE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
