"""Files written by an older nexla (docs/file-format.md, "Versions" and "Migrations").

A file in an older format is brought up to date as it is read, in memory: nothing is
written by reading, and the next write stores the current format. A file from a newer nexla
is refused (exit 3) and never rewritten. Fields this version does not know survive a
rewrite, at every level of the file.
"""

from __future__ import annotations

from nexla_cli.storage.store import FORMAT_VERSION, MIGRATIONS


def test_every_older_format_has_a_step_to_the_next():
    assert sorted(MIGRATIONS) == list(range(1, FORMAT_VERSION))
