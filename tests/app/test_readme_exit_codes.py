"""The README's exit-code table names what each code is for: a run that ends in a code is
found in that code's row (README.md, "Exit codes")."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def exit_code_row(code: int) -> str:
    section = (ROOT / "README.md").read_text().split("## Exit codes", 1)[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith(f"| {code} |")]
    assert len(rows) == 1, section
    return rows[0]


def test_a_listing_longer_than_max_pages_is_in_the_row_of_its_code(api):
    api.server.data_source_count = 10**9  # pages never run short
    result = api.run("api", "/data_sources", "--paginate", "--max-pages", "2", "-f", "per_page=2")
    assert result.returncode == 5, result.stderr
    assert "`--max-pages`" in exit_code_row(result.returncode)
