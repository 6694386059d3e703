"""Where the configuration lives. Everything that needs a path asks here.

Kept to the standard library and platformdirs: the `token print` fast path imports it.
platformdirs is imported only when $NEXLA_CONFIG_DIR is not set.
"""

import os
from collections.abc import Collection, Mapping
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
    """platformdirs.user_config_dir("nexla"), unless a store exists only where another
    platformdirs release put it (choose_config_dir). platformdirs reads the process's own
    environment (HOME, XDG_CONFIG_HOME), not `environ`: the one place below the entry point
    that does, kept so that the store is found exactly where platformdirs says, as
    documented. Tests set NEXLA_CONFIG_DIR instead."""
    import sys

    import platformdirs

    named = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    candidates = config_dir_candidates(environ, sys.platform)
    if not candidates:
        return named
    holding = {place for place in (named, *candidates) if holds_a_store(place)}
    return choose_config_dir(named, candidates, holding)


def config_dir_candidates(environ: Mapping[str, str], platform: str) -> list[Path]:
    """Where platformdirs releases allowed by `platformdirs>=3` name the config directory on
    this platform. On macOS, 3.x names ~/Library/Application Support/nexla whatever is set,
    and recent releases $XDG_CONFIG_HOME/nexla when that is set (an absolute path). Linux's
    has always honoured XDG_CONFIG_HOME, Windows' never: one place each, nothing to choose."""
    if platform != "darwin":
        return []
    places = []
    home = environ.get("HOME", "")
    if home.startswith("/"):
        places.append(Path(home) / "Library" / "Application Support" / APP_NAME)
    xdg = environ.get("XDG_CONFIG_HOME", "")
    if xdg.startswith("/"):
        places.append(Path(xdg) / APP_NAME)
    return places


def choose_config_dir(named: Path, candidates: list[Path], holding: Collection[Path]) -> Path:
    """The config directory: `named` (what platformdirs names now) when it holds a store or
    no candidate does; else the first candidate that holds one (`holding`: the directories
    that hold a credentials file). An existing store wins, so that upgrading or downgrading
    platformdirs never makes a signed-in user look signed out."""
    if named in holding:
        return named
    for place in candidates:
        if place in holding:
            return place
    return named


def holds_a_store(directory: Path) -> bool:
    return os.path.isfile(directory / STORE_FILENAME)
