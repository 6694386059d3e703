"""The config directory is platformdirs' answer, even where paths.py spares the import.

paths.config_dir() works out the plain Linux cases itself (an absolute $XDG_CONFIG_HOME,
or none and an absolute $HOME) because importing platformdirs costs more than the rest of
`nexla token print`. Here it is compared with the installed platformdirs in those cases
and in the ones it leaves to platformdirs.
"""

import sys
from pathlib import Path

import platformdirs
import pytest

from nexla_cli import paths

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the shortcut is for Linux only"
)

UNSET = None

# (XDG_CONFIG_HOME, HOME, paths.py answers it without platformdirs)
CASES = [
    ("/srv/xdg", "/home/ada", True),
    ("/srv/xdg/", "/home/ada", True),
    ("/srv/with space/xdg", "/home/ada", True),
    ("//srv/xdg", "/home/ada", True),
    (UNSET, "/home/ada", True),
    ("", "/home/ada", True),
    (UNSET, "/home/ada/", True),
    (UNSET, "/", True),
    ("relative/xdg", "/home/ada", False),
    ("   ", "/home/ada", False),
    (" /srv/xdg", "/home/ada", False),
    (UNSET, "relative-home", False),
    (UNSET, UNSET, False),
    ("", "", False),
]


def _set(monkeypatch, name, value):
    if value is UNSET:
        monkeypatch.delenv(name, raising=False)
    else:
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("xdg, home, plain", CASES)
def test_config_dir_is_what_platformdirs_says(monkeypatch, xdg, home, plain):
    monkeypatch.delenv("NEXLA_CONFIG_DIR", raising=False)
    monkeypatch.delenv("ANDROID_DATA", raising=False)
    _set(monkeypatch, "XDG_CONFIG_HOME", xdg)
    _set(monkeypatch, "HOME", home)

    assert (paths._plain_linux_config_dir() is not None) == plain
    try:
        expected = Path(platformdirs.user_config_dir("nexla", appauthor=False))
    except RuntimeError:  # newer platformdirs refuse to guess a home directory
        assert not plain
        return
    assert paths.config_dir() == expected


def test_android_is_left_to_platformdirs(monkeypatch):
    monkeypatch.delenv("NEXLA_CONFIG_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", "/srv/xdg")
    monkeypatch.setenv("ANDROID_DATA", "/data")
    assert paths._plain_linux_config_dir() is None


def test_nexla_config_dir_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("NEXLA_CONFIG_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CONFIG_HOME", "/srv/xdg")
    assert paths.config_dir() == tmp_path / "mine"
    assert paths.store_path() == tmp_path / "mine" / "credentials.json"
