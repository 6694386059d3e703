"""Where the configuration lives. Everything that needs a path asks here.

Kept to the standard library and platformdirs: the `token print` fast path imports it.
"""

import os
from pathlib import Path

STORE_FILENAME = "credentials.json"


def config_dir() -> Path:
    """$NEXLA_CONFIG_DIR, else the platform's user config dir (~/.config/nexla on Linux)."""
    override = os.environ.get("NEXLA_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("nexla", appauthor=False))


def store_path() -> Path:
    return config_dir() / STORE_FILENAME


def lock_path() -> Path:
    return config_dir() / (STORE_FILENAME + ".lock")
