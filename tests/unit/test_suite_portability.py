"""The test suite on other systems (docs/portability.md): which e2e modules a Windows run
skips and why, and peak memory read in the unit each system reports it in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.other_systems import POSIX_ONLY_E2E, posix_only_skip
from tests.support.processes import maxrss_mib

E2E = Path(__file__).resolve().parents[1] / "e2e"


def test_every_posix_only_module_exists():
    assert sorted(name for name in POSIX_ONLY_E2E if not (E2E / name).exists()) == []


@pytest.mark.parametrize(
    "platform, expected",
    [
        ("win32", "POSIX only: needs a pseudo-terminal (pexpect)"),
        ("linux", None),
        ("darwin", None),
    ],
)
def test_posix_only_tests_are_skipped_on_windows_alone(platform, expected):
    assert posix_only_skip("a pseudo-terminal (pexpect)", platform) == expected
    assert posix_only_skip(None, platform) is None


@pytest.mark.parametrize(
    "platform, maxrss, mib",
    [
        ("linux", 50 * 1024, 50.0),  # kilobytes
        ("darwin", 50 * 1024 * 1024, 50.0),  # bytes
        ("freebsd13", 50 * 1024, 50.0),
    ],
)
def test_peak_memory_is_read_in_each_systems_unit(platform, maxrss, mib):
    assert maxrss_mib(maxrss, platform) == mib
