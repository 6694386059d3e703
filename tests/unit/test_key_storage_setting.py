"""The unit tier of tests/app/test_key_storage_setting.py, whose docstring says what is promised:
the pure functions behind its promises, called directly: no server, no run of the app."""

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
