"""The lint rules and the type check are part of the test suite, so the README's one test
command runs them.

Among them, ruff's TID253 bans module-level imports of requests, rich, pydantic, filelock and
urllib3 anywhere in nexla_cli: start-up stays lean (see pyproject.toml).
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_check_passes():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "nexla_cli", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_passes():
    # The settings ([tool.mypy] in pyproject.toml: strict, on the package) are read from the
    # package root, as CI and a developer running `mypy` there both get them.
    result = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_mypy_strict_passes_as_on_other_systems(platform):
    # Code for one system sits under `if sys.platform == ...:` blocks, which mypy checks for
    # the platform it is told: Windows and macOS are type-checked from Linux too
    # (docs/portability.md).
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--platform", platform],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


def test_ruff_rejects_a_module_level_requests_import(tmp_path):
    # The guard itself must bite: a module importing requests at the top is refused.
    offender = tmp_path / "offender.py"
    offender.write_text("import requests\n\nprint(requests)\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            # A file of this test's own: nothing to keep in the project's .ruff_cache, which
            # test_ruff_check_passes may be writing at the same time in another worker.
            "--no-cache",
            "--config",
            str(ROOT / "pyproject.toml"),
            str(offender),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "TID253" in result.stdout
