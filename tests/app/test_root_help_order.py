"""The root help leads with the commands a newcomer needs (`env`, `token`), and the command
reference is for readers: how it is generated is in docs/architecture.md, not on the page."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def listed_commands(help_text: str) -> list[str]:
    section = help_text.split("\nCommands:\n", 1)[1]
    return [line.split()[0] for line in section.splitlines() if line.startswith("  ")]


def test_root_help_lists_env_and_token_first(nx):
    for args in (("--help",), ("help",), ()):
        assert listed_commands(nx.ok(*args).stdout) == ["env", "token", "api", "help", "completion"]


def test_the_reference_page_has_no_maintainers_note():
    page = (ROOT / "docs" / "reference.md").read_text()
    opening = page.split("\n## ", 1)[0]
    assert "gen_reference" not in opening and "generated" not in opening
    assert "gen_reference.py" in (ROOT / "docs" / "architecture.md").read_text()
