"""Secrets: no option of any command takes a token or key as its value (it would land in
shell history and `ps`). What reaches screens and files is in tests/app/test_secrets.py.
"""

from __future__ import annotations

import typer.main

from nexla_cli.cli.root import app
from tests.support.commands import (
    SECRET_WORDS,
    all_commands,
)

# ---- no option takes a secret --------------------------------------------------------------

# Options named like a secret that take no secret: flags, and a path to read one from.
HARMLESS = {"--with-token", "--print", "--save-key", "--key-file"}


def test_no_parameter_takes_a_token_or_key_as_its_value():
    root = typer.main.get_command(app)
    checked = 0
    for path, command in all_commands(root):
        for param in command.params:
            checked += 1
            names = [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]
            takes_value = not getattr(param, "is_flag", False) and param.nargs != 0
            if param.param_type_name == "argument":
                # Arguments are host names, environment names, API paths, a shell's name, and the
                # command `token exec` runs (which gets the token in its environment).
                allowed = ("host", "name", "path", "shell") + (
                    ("command",) if path == ("token", "exec") else ()
                )
                assert param.name in allowed, (path, param.name)
                continue
            if takes_value and any(SECRET_WORDS.search(n) for n in names):
                assert set(names) <= HARMLESS, (path, names)
                assert param.name == "key_file" and "PATH" in (param.metavar or ""), path
    assert checked >= 20
