"""Write docs/reference.md: every command's `--help`, as `nexla` prints it.

    python scripts/gen_reference.py

Run it after changing a command, an option or a help text; tests/test_reference.py fails
while docs/reference.md differs from what this would write. The help is rendered in this
process at a fixed width of 80 columns, so the file does not depend on the terminal.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference.md"
COMMAND = "python scripts/gen_reference.py"
WIDTH = "80"

# For readers only: how the file is made is for maintainers (docs/architecture.md, "Adding a
# command"), not in the page.
HEADER = """# Command reference

Every command's `--help`, as `nexla` prints it.
"""


def command_paths() -> list:
    """(words after `nexla`) for the root, each group and each command, in help order."""
    import typer.core
    import typer.main

    from nexla_cli.cli.root import app

    paths = []

    def walk(command, path):
        paths.append(path)
        if not isinstance(command, typer.core.TyperGroup):
            return
        # In the order `--help` lists them.
        for name in command.list_commands(typer.Context(command)):
            sub = command.commands[name]
            if not getattr(sub, "hidden", False):
                walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return paths


def help_text(path: tuple) -> str:
    import io

    from typer.testing import CliRunner

    from nexla_cli.cli.root import app
    from nexla_cli.core.runtime import Streams
    from nexla_cli.deps import Deps

    # The help goes to the run's stdout; the runner only sets the width it is wrapped to.
    stdout = io.StringIO()
    deps = Deps({"NO_COLOR": "1"}, Streams(None, stdout, io.StringIO()))
    runner = CliRunner()
    result = runner.invoke(
        app,
        [*path, "--help"],
        prog_name="nexla",
        env={"COLUMNS": WIDTH, "NO_COLOR": "1"},
        obj=deps,
    )
    if result.exit_code != 0:
        raise RuntimeError(f"`nexla {' '.join(path)} --help` exited {result.exit_code}")
    return stdout.getvalue().rstrip() + "\n"


def render() -> str:
    paths = command_paths()
    titles = [" ".join(("nexla", *path)) for path in paths]
    parts = [HEADER]
    parts.append("".join(f"- [`{title}`](#{_anchor(title)})\n" for title in titles))
    for path, title in zip(paths, titles, strict=True):
        parts.append(f"## {title}\n\n```text\n{help_text(path)}```\n")
    return "\n".join(parts)


def _anchor(title: str) -> str:
    # GitHub's heading anchors: lower case, blanks to hyphens, other punctuation dropped.
    return "".join(c for c in title.lower().replace(" ", "-") if c.isalnum() or c in "-_")


def main() -> None:
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    REFERENCE.write_text(render())
    print(f"wrote {REFERENCE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
