"""The unit tier of tests/app/test_store_migration.py, whose docstring says what is promised: the
pure functions behind its promises, called directly: no server, no run of the app."""

from __future__ import annotations

from nexla_cli.storage.store import FORMAT_VERSION, MIGRATIONS


def test_every_older_format_has_a_step_to_the_next():
    assert sorted(MIGRATIONS) == list(range(1, FORMAT_VERSION))
