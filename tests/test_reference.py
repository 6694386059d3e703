"""docs/reference.md is every command's `--help`, and never drifts from it.

The file is written by scripts/gen_reference.py; this test renders it again and compares.
"""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "gen_reference", ROOT / "scripts" / "gen_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_is_the_help_of_every_command():
    generator = load_generator()
    rendered = generator.render()
    committed = (ROOT / "docs" / "reference.md").read_text()
    assert committed == rendered, (
        "docs/reference.md differs from the commands' --help; regenerate it with "
        f"`{generator.COMMAND}` and commit the result"
    )


def test_reference_covers_every_command():
    generator = load_generator()
    paths = generator.command_paths()
    # The root, both groups, and the commands below them; a new command appears by itself.
    assert {(), ("env",), ("token",), ("api",), ("env", "use"), ("token", "print")} <= set(paths)
    committed = (ROOT / "docs" / "reference.md").read_text()
    for path in paths:
        title = " ".join(("nexla", *path))
        assert f"\n## {title}\n" in committed
        assert f"Usage: {title} " in committed
