"""What reaches a terminal: escape sequences, the spinner's frames, and the environment of a
colour terminal (docs/output.md)."""

from __future__ import annotations

import re

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# rich's default "dots" spinner draws with braille characters.
SPINNER = re.compile("[\u2800-\u28ff]")


def terminal_env(nx, *, colour: bool) -> dict[str, str]:
    env: dict[str, str] = nx.env_with(TERM="xterm-256color", COLUMNS="100", LINES="40")
    if colour:
        env.pop("NO_COLOR", None)
    return env
