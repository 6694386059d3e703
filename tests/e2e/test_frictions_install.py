"""The README's install line that links `nexla` into ~/.local/bin works in a fresh home,
where that directory does not exist yet: run by a real shell, as a reader would paste it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def link_line() -> str:
    """The one inline command of the README that links the venv's `nexla` into ~/.local/bin."""
    commands = re.findall(r"`([^`\n]*ln -s [^`\n]*)`", README.read_text())
    assert len(commands) == 1, commands
    return commands[0]


def test_the_readme_link_line_works_without_a_local_bin(tmp_path):
    checkout = tmp_path / "checkout"
    (checkout / ".venv" / "bin").mkdir(parents=True)
    (checkout / ".venv" / "bin" / "nexla").write_text("#!/bin/sh\n")
    home = tmp_path / "home"
    home.mkdir()
    assert not (home / ".local").exists()
    result = subprocess.run(
        ["/bin/sh", "-c", link_line()],
        cwd=checkout,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "PWD": str(checkout)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    link = home / ".local" / "bin" / "nexla"
    assert link.is_symlink()
    assert link.resolve() == (checkout / ".venv" / "bin" / "nexla").resolve()
