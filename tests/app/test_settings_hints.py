"""A refused NEXLA_* setting points to where the settings are documented, a page that names
the variable and what it accepts (docs/storage.md, "Settings"; README, "Settings")."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CASES = [
    ("NEXLA_TIMEOUT", "abc"),
    ("NEXLA_REFRESH_MARGIN", "-1"),
    ("NEXLA_LOCK_TIMEOUT", "10s"),
    ("NEXLA_KEY_STORAGE", "vault"),
    ("NEXLA_QUIET", "maybe"),
]


@pytest.mark.parametrize("command", [("token", "print"), ("env", "list")], ids=" ".join)
@pytest.mark.parametrize("variable, value", CASES)
def test_the_hint_names_the_page_that_documents_the_setting(nx, command, variable, value):
    nx.sign_in()
    result = nx.fails(2, *command, env=nx.env_with(**{variable: value}))
    error, hint = result.stderr.splitlines()
    assert error.startswith(f"error: {variable} must be")
    assert hint.startswith("hint: ") and "--help" not in hint
    for page in ("docs/storage.md", "README"):
        assert page in hint
    settings = (ROOT / "docs/storage.md").read_text().split("## Settings", 1)[1]
    readme_settings = (ROOT / "README.md").read_text().split("## Settings", 1)[1]
    assert f"`{variable}`" in settings.split("\n## ")[0]
    assert f"`{variable}`" in readme_settings.split("\n## ")[0]
