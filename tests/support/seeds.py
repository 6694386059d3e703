"""Seeds for the tests that draw at random, so that any failure can be run again as it was.

Each such test has fixed default seeds: every run draws the same. NEXLA_TEST_SEED=N (a
whole number) runs them with N instead, to try other draws or to repeat the one a failure
names. The seed in use is printed when the test starts (pytest shows it with a failure)
and is part of the assertion messages.

The draws decide the order, the pauses and the moments of a kill; the processes that
race still run at the machine's speed, so a seed makes a round repeatable, not identical.
"""

from __future__ import annotations

import os

SEED_VARIABLE = "NEXLA_TEST_SEED"


def seed_override() -> int | None:
    """The seed NEXLA_TEST_SEED asks for, or None when it is unset or empty."""
    raw = os.environ.get(SEED_VARIABLE, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{SEED_VARIABLE} must be a whole number, not {raw!r}") from None


def seed_or(default: int) -> int:
    """NEXLA_TEST_SEED if it is set, else `default`."""
    chosen = seed_override()
    return default if chosen is None else chosen


def seeds_or(defaults: list[int]) -> list[int]:
    """The seeds to run a parametrized test with: NEXLA_TEST_SEED alone, else `defaults`."""
    chosen = seed_override()
    return list(defaults) if chosen is None else [chosen]


def how_to_repeat(seed: int) -> str:
    """Words for an assertion message (and the test's output) that say how to run it again."""
    return f"seed {seed}; run again with {SEED_VARIABLE}={seed}"
