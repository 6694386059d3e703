"""The app's commands, walked: for checks that must hold for every command and option."""

from __future__ import annotations

import re

SECRET_WORDS = re.compile(r"token|key|secret|password|passwd|credential|bearer", re.I)


def all_commands(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from all_commands(sub, (*path, name))
