"""$BROWSER on Windows (docs/portability.md): entries are separated by `;` and each is a
program's path, not shell words, so `C:\\Program Files\\…` keeps its spaces and backslashes.
A table over browser_commands with the platform given; nothing here has run on Windows."""

from __future__ import annotations

import pytest

from nexla_cli.cli.commands.common import browser_commands

URL = "https://dataops.nexla.io/token"
FIREFOX = r"C:\Program Files\Mozilla Firefox\firefox.exe"
CHROME = r"C:\Program Files\Google\Chrome\Application\chrome.exe"


@pytest.mark.parametrize(
    "browser, expected",
    [
        (FIREFOX, [[FIREFOX, URL]]),
        (f'"{FIREFOX}"', [[FIREFOX, URL]]),
        (f'"{CHROME}" --new-window %s', [[CHROME, "--new-window", URL]]),
        (f"{FIREFOX};{CHROME}", [[FIREFOX, URL], [CHROME, URL]]),
        (r"C:\tools\browser.exe", [[r"C:\tools\browser.exe", URL]]),
        (f" {FIREFOX} ;;", [[FIREFOX, URL]]),
        ('"unterminated', []),
        ('""', []),
    ],
)
def test_windows_entries_are_paths(browser, expected):
    assert browser_commands(URL, {"BROWSER": browser}, "win32") == expected


@pytest.mark.parametrize(
    "browser, expected",
    [
        ("firefox", [["firefox", URL]]),
        ("firefox --new-window %s", [["firefox", "--new-window", URL]]),
        ("'/opt/My Browser/run' %s:lynx", [["/opt/My Browser/run", URL], ["lynx", URL]]),
        ("'unterminated:w3m", [["w3m", URL]]),
    ],
)
def test_posix_entries_stay_shell_words(browser, expected):
    for platform in ("linux", "darwin"):
        assert browser_commands(URL, {"BROWSER": browser}, platform) == expected
