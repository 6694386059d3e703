"""Where the store is when NEXLA_CONFIG_DIR is not set (docs/storage.md, "Where"): the
directory platformdirs names, unless that holds no credentials file and the other place a
platformdirs release has named on this system does: an existing store wins, so an upgrade
of platformdirs never signs anyone out.

On macOS platformdirs 3 names `~/Library/Application Support/nexla` whatever is set, and
recent releases `$XDG_CONFIG_HOME/nexla` when that variable is set. Both behaviours are
taken from platformdirs' own macOS class: without the variable (as 3.x always is) and with
it."""

from __future__ import annotations

from pathlib import Path

import pytest
from platformdirs.macos import MacOS

from nexla_cli.core import paths


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return tmp_path / "home"


def _named_by_platformdirs(xdg: Path | None, monkeypatch) -> Path:
    if xdg is None:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    return Path(MacOS(paths.APP_NAME, appauthor=False).user_config_dir)


def _holding(directories: list[Path]) -> set[Path]:
    return {directory for directory in directories if paths.holds_a_store(directory)}


def _store_in(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / paths.STORE_FILENAME).write_text("{}")
    return directory


@pytest.mark.parametrize("library", ["honours XDG_CONFIG_HOME", "ignores it (3.x)"])
@pytest.mark.parametrize("store", ["in Application Support", "under XDG_CONFIG_HOME", "none"])
def test_an_existing_store_wins_over_what_platformdirs_names_now(home, monkeypatch, library, store):
    xdg = home / "xdg-config"
    application_support = home / "Library" / "Application Support" / "nexla"
    under_xdg = xdg / "nexla"
    # What each platformdirs behaviour names, from its macOS class.
    named = _named_by_platformdirs(xdg if library.startswith("honours") else None, monkeypatch)
    assert named == (under_xdg if library.startswith("honours") else application_support)
    existing = {"in Application Support": application_support, "under XDG_CONFIG_HOME": under_xdg}
    if store in existing:
        _store_in(existing[store])

    environ = {"HOME": str(home), "XDG_CONFIG_HOME": str(xdg)}
    candidates = paths.config_dir_candidates(environ, "darwin")
    chosen = paths.choose_config_dir(named, candidates, _holding([named, *candidates]))
    assert chosen == existing.get(store, named)


def test_when_both_hold_a_store_the_one_platformdirs_names_wins(home, monkeypatch):
    xdg = home / "xdg-config"
    for directory in (home / "Library" / "Application Support" / "nexla", xdg / "nexla"):
        _store_in(directory)
    environ = {"HOME": str(home), "XDG_CONFIG_HOME": str(xdg)}
    for library_xdg in (xdg, None):
        named = _named_by_platformdirs(library_xdg, monkeypatch)
        candidates = paths.config_dir_candidates(environ, "darwin")
        holding = _holding([named, *candidates])
        assert paths.choose_config_dir(named, candidates, holding) == named


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        ({"HOME": "/h"}, "darwin", ["/h/Library/Application Support/nexla"]),
        (
            {"HOME": "/h", "XDG_CONFIG_HOME": "/x"},
            "darwin",
            ["/h/Library/Application Support/nexla", "/x/nexla"],
        ),
        # platformdirs ignores a relative XDG_CONFIG_HOME: so does the choice.
        (
            {"HOME": "/h", "XDG_CONFIG_HOME": "rel"},
            "darwin",
            ["/h/Library/Application Support/nexla"],
        ),
        ({"XDG_CONFIG_HOME": "/x"}, "darwin", ["/x/nexla"]),
        # Linux's platformdirs has always honoured XDG_CONFIG_HOME; Windows never has.
        ({"HOME": "/h", "XDG_CONFIG_HOME": "/x"}, "linux", []),
        ({"HOME": "/h", "XDG_CONFIG_HOME": "/x"}, "win32", []),
    ],
)
def test_the_places_a_platformdirs_release_has_named(environ, platform, expected):
    assert paths.config_dir_candidates(environ, platform) == [Path(p) for p in expected]


@pytest.mark.parametrize(
    ("holding", "expected"),
    [
        ({"/a"}, "/a"),
        ({"/b"}, "/b"),
        ({"/a", "/b"}, "/a"),
        (set(), "/a"),
        ({"/c"}, "/a"),  # a store anywhere else is not looked for
    ],
)
def test_choosing_among_the_candidates(holding, expected):
    chosen = paths.choose_config_dir(
        Path("/a"), [Path("/a"), Path("/b")], {Path(p) for p in holding}
    )
    assert chosen == Path(expected)


def test_the_variable_still_wins_over_any_store(home, tmp_path):
    _store_in(home / "Library" / "Application Support" / "nexla")
    environ = {"HOME": str(home), "NEXLA_CONFIG_DIR": str(tmp_path / "chosen")}
    assert paths.config_dir(environ) == tmp_path / "chosen"


@pytest.mark.parametrize("store", ["in Application Support", "under XDG_CONFIG_HOME"])
def test_after_an_upgrade_to_a_platformdirs_that_honours_xdg_the_store_is_found(
    home, monkeypatch, store
):
    # macOS stood in for: sys.platform says darwin and platformdirs answers as its macOS
    # class does (the release installed here honours XDG_CONFIG_HOME).
    import sys

    import platformdirs

    xdg = home / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(
        platformdirs,
        "user_config_dir",
        lambda appname, appauthor: MacOS(appname, appauthor=appauthor).user_config_dir,
    )
    where = {
        "in Application Support": home / "Library" / "Application Support" / "nexla",
        "under XDG_CONFIG_HOME": xdg / "nexla",
    }[store]
    _store_in(where)
    environ = {"HOME": str(home), "XDG_CONFIG_HOME": str(xdg)}
    assert paths.config_dir(environ) == where
    assert paths.credentials_path(environ) == where / paths.STORE_FILENAME
