"""Where the configuration lives. Everything that needs a path asks here.

Kept to the standard library and platformdirs: the `token print` fast path imports it.
platformdirs is imported only when $NEXLA_CONFIG_DIR is not set.
"""

from collections.abc import Mapping
from pathlib import Path

from nexla_cli.core.errors import ConfigError

APP_NAME = "nexla"
STORE_FILENAME = "credentials.json"
CONFIG_DIR_VARIABLE = "NEXLA_CONFIG_DIR"


def config_dir(environ: Mapping[str, str]) -> Path:
    """$NEXLA_CONFIG_DIR, else platformdirs.user_config_dir("nexla") (~/.config/nexla on Linux).

    ConfigError when no directory can be named: `~nosuch/…`, or no home directory (HOME
    unset under a user with no passwd entry, as in some containers) and no override.
    """
    override = environ.get(CONFIG_DIR_VARIABLE)
    if override and override.strip():
        try:
            return _expand_home(override, environ)
        except RuntimeError:  # `~name` of a user that does not exist, or no home at all
            raise ConfigError(
                f"{CONFIG_DIR_VARIABLE}={override!r}: cannot find that home directory",
                hint=f"set {CONFIG_DIR_VARIABLE} to an absolute path",
            ) from None
    try:
        found = _platform_config_dir(environ)
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


def credentials_path(environ: Mapping[str, str]) -> Path:
    return config_dir(environ) / STORE_FILENAME


def _expand_home(path: str, environ: Mapping[str, str]) -> Path:
    """`~` and `~/…` from this run's HOME; `~user/…` from the password database."""
    if path == "~" or path.startswith("~/"):
        home = environ.get("HOME")
        if not home:
            return Path(path).expanduser()  # no HOME: the password database, or RuntimeError
        return Path(home + path[1:])
    return Path(path).expanduser()


def _platform_config_dir(environ: Mapping[str, str]) -> Path:
    """platformdirs.user_config_dir("nexla"). platformdirs reads the process's own
    environment (HOME, XDG_CONFIG_HOME), not `environ`: the one place below the entry point
    that does, kept so that the store is found exactly where platformdirs says, as
    documented. Tests set NEXLA_CONFIG_DIR instead."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
