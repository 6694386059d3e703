"""Shell completion (README.md, "Shell completion"): environment names are answered without
Typer by nexla_cli/fast/fastcomplete.py (docs/speed.md), from tables that must name exactly
the commands of the full app."""

from __future__ import annotations

from nexla_cli.fast import fastcomplete


def test_the_fast_tables_name_exactly_the_commands_of_the_app():
    """A command with --env missing from fastcomplete.ENV_OPTION_COMMANDS would complete
    through Typer, slowly; one listed without --env would complete the wrong thing."""
    import typer.main

    from nexla_cli.cli.root import app

    def commands(group, path=()):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from commands(command, (*path, name))
            else:
                yield (*path, name), command

    with_env = {
        path
        for path, command in commands(typer.main.get_command(app))
        if any(set(fastcomplete.ENV_OPTION_NAMES) <= set(p.opts) for p in command.params)
    }
    assert fastcomplete.ENV_OPTION_COMMANDS == with_env, (
        "set ENV_OPTION_COMMANDS in nexla_cli/fast/fastcomplete.py to "
        f"{sorted(with_env)} (the commands with --env/-e)"
    )
    all_paths = dict(commands(typer.main.get_command(app)))
    for path in fastcomplete.NAME_ARGUMENT_COMMANDS:
        arguments = [p for p in all_paths[path].params if not p.opts[0].startswith("-")]
        assert arguments, path
