"""Reading a pasted token's expiry from its JWT `exp` (nexla_cli/core/model.py), as
docs/api-facts.md describes: decoded, never verified, and any string gives an answer."""

from __future__ import annotations

import json

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from tests.support.fake_nexla import make_jwt

NOW = 1_800_000_000


def test_expiry_is_read_against_the_runs_clock(tmp_path):
    """The clock is the run's (Deps), not the machine's: with the clock at NOW, a token
    whose `exp` is NOW + 600 has 600 seconds left, whatever the time really is."""
    from tests.support.inprocess import run_in_process

    token = make_jwt({"exp": NOW + 600})
    result = run_in_process(
        ["token", "status", "--json"],
        env={"NEXLA_CONFIG_DIR": str(tmp_path), "NEXLA_ACCESS_TOKEN": token},
        clock=lambda: float(NOW),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["expires_in"], report["expiry_source"]) == (600, "token")

