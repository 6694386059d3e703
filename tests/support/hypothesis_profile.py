"""Hypothesis settings for the suite: the same examples on every CI run.

Every module with property-based tests imports this before its first `@settings`, which
copies the profile active at that moment.

A failing property prints its falsifying example wherever it runs. With the CI variable set
(most CI services set it), the "ci" profile also derandomizes, so that every run draws the
same examples and a failure comes back when the suite is run again, and it prints a
`@reproduce_failure` blob. Recent Hypothesis releases register that profile and load it
under CI themselves; for the older releases the project allows, this module does both.
HYPOTHESIS_PROFILE=ci selects it anywhere, e.g. to repeat a CI run on a laptop.

Elsewhere the default profile stands: new examples on each run, and the example database
in .hypothesis/ replays a failure first.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis.errors import InvalidArgument

REPEATABLE = "ci"
PROFILE_VARIABLE = "HYPOTHESIS_PROFILE"


def _registered(name: str) -> bool:
    try:
        settings.get_profile(name)
    except InvalidArgument:
        return False
    return True


def _select() -> None:
    if not _registered(REPEATABLE):
        settings.register_profile(
            REPEATABLE,
            derandomize=True,
            database=None,
            deadline=None,
            print_blob=True,
            suppress_health_check=[HealthCheck.too_slow],
        )
    asked = os.environ.get(PROFILE_VARIABLE)
    if asked:
        settings.load_profile(asked)
    # Under CI, unless a profile was chosen already (by Hypothesis itself, or with
    # --hypothesis-profile on the command line).
    elif os.environ.get("CI") and settings.default == settings.get_profile("default"):
        settings.load_profile(REPEATABLE)


_select()
