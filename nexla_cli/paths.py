"""Where the configuration lives. Everything that needs a path asks here.

Kept to the standard library and platformdirs: the `token print` fast path imports it.
"""

import os
import sys
from pathlib import Path

APP_NAME = "nexla"
STORE_FILENAME = "credentials.json"


def config_dir() -> Path:
    """$NEXLA_CONFIG_DIR, else platformdirs.user_config_dir("nexla") (~/.config/nexla on Linux)."""
    override = os.environ.get("NEXLA_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    plain = _plain_linux_config_dir()
    if plain is not None:
        return Path(plain)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def _plain_linux_config_dir() -> str | None:
    """platformdirs' answer on Linux, in the cases where every version of it agrees.

    Importing platformdirs costs more than everything else `nexla token print` does (it
    loads tempfile, shutil, random, bz2, lzma…). On Linux, with an absolute
    $XDG_CONFIG_HOME, or none and an absolute $HOME, its answer is plainly
    `$XDG_CONFIG_HOME/nexla` or `$HOME/.config/nexla`; anything less plain (a relative
    or blank variable, no HOME, Android) is left to platformdirs itself.
    tests/test_startup_paths.py checks that the two agree.
    """
    if not sys.platform.startswith("linux") or "ANDROID_DATA" in os.environ:
        return None
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    if xdg:
        return os.path.join(xdg, APP_NAME) if os.path.isabs(xdg) else None
    home = os.environ.get("HOME", "")
    return os.path.join(home, ".config", APP_NAME) if os.path.isabs(home) else None


def store_path() -> Path:
    return config_dir() / STORE_FILENAME


def lock_path() -> Path:
    return config_dir() / (STORE_FILENAME + ".lock")
