"""Where the configuration lives. Everything that needs a path asks here.

Kept to the standard library and platformdirs: the `token print` fast path imports it.
platformdirs is imported only when $NEXLA_CONFIG_DIR is not set.
"""

import os
from pathlib import Path

APP_NAME = "nexla"
STORE_FILENAME = "credentials.json"


def config_dir() -> Path:
    """$NEXLA_CONFIG_DIR, else platformdirs.user_config_dir("nexla") (~/.config/nexla on Linux)."""
    override = os.environ.get("NEXLA_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def store_path() -> Path:
    return config_dir() / STORE_FILENAME
