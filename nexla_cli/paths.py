"""Where the configuration lives. Everything that needs a path asks here.

Kept to the standard library and platformdirs: the `token print` fast path imports it.
platformdirs is imported only when $NEXLA_CONFIG_DIR is not set.
"""

import os
from pathlib import Path

from nexla_cli.errors import ConfigError

APP_NAME = "nexla"
STORE_FILENAME = "credentials.json"
CONFIG_DIR_VARIABLE = "NEXLA_CONFIG_DIR"


def config_dir() -> Path:
    """$NEXLA_CONFIG_DIR, else platformdirs.user_config_dir("nexla") (~/.config/nexla on Linux).

    ConfigError when no directory can be named: `~nosuch/…`, or no home directory (HOME
    unset under a user with no passwd entry, as in some containers) and no override.
    """
    override = os.environ.get(CONFIG_DIR_VARIABLE)
    if override and override.strip():
        try:
            return Path(override).expanduser()
        except RuntimeError:  # `~name` of a user that does not exist, or no home at all
            raise ConfigError(
                f"{CONFIG_DIR_VARIABLE}={override!r}: cannot find that home directory",
                hint=f"set {CONFIG_DIR_VARIABLE} to an absolute path",
            ) from None
    import platformdirs

    try:
        found = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    except (RuntimeError, KeyError, OSError):
        found = None
    # Without a home, `~` stays unexpanded and the "config dir" would be relative to
    # wherever nexla happens to run.
    if found is None or not found.is_absolute() or str(found).startswith("~"):
        raise ConfigError(
            "cannot find a config directory: there is no home directory (HOME is not set)",
            hint=f"set HOME, XDG_CONFIG_HOME or {CONFIG_DIR_VARIABLE}",
        )
    return found


def store_path() -> Path:
    return config_dir() / STORE_FILENAME
