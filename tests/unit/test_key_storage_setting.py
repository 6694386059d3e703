"""`NEXLA_KEY_STORAGE` (docs/storage.md, docs/keyring.md) is checked on every run like
every other NEXLA_* setting: `auto`, `keyring`, `file` or unset (empty is unset); anything
else is exit 2 at once, whatever the command, the `token print` fast path included, which
still never loads the keyring library."""

from __future__ import annotations

import pytest

from nexla_cli.core import settings
from nexla_cli.core.errors import UsageError
from tests.support.hostile_values import BAD_KEY_STORAGE


@pytest.mark.parametrize(
    "value, choice",
    [(None, "auto"), ("", "auto"), (" ", "auto"), ("auto", "auto"), (" keyring", "keyring")]
    + [("file", "file")],
)
def test_key_storage_choices(value, choice):
    environ = {} if value is None else {"NEXLA_KEY_STORAGE": value}
    assert settings.key_storage(environ) == choice


@pytest.mark.parametrize("value", BAD_KEY_STORAGE)
def test_key_storage_refusals_are_one_line(value):
    with pytest.raises(UsageError) as caught:
        settings.check_all({"NEXLA_KEY_STORAGE": value})
    assert "\x1b" not in caught.value.message and "\n" not in caught.value.message
