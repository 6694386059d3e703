"""Times and durations as people read them, in one style everywhere.

Instants are ISO 8601 in UTC to the second (`2026-11-27T22:02:16Z`); durations are one or
two units (`40s`, `59m`, `1h 2m`, `3d`). `--json` output keeps its own documented fields and
does not come through here except for its instants. This module sits in core, below the
session layer (auth/) and the commands, so that warnings written deep in the renewal logic
read the same as `env show`; cli/commands/common.py re-exports these for the commands.
"""

import datetime

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR


def iso_utc(epoch: float) -> str:
    """`2026-11-27T22:02:16Z`; the year always in four digits (`0999-…`), as ISO 8601
    and JSON readers expect, which strftime's `%Y` does not promise."""
    moment = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def duration(seconds: float) -> str:
    """`40s`, `59m`, `1h 2m`, `5h`, `3d`: at most two units, rounded down.

    Seconds show only under a minute and minutes only under two days, where they still
    matter to someone deciding whether to sign in again.
    """
    seconds = max(int(seconds), 0)
    if seconds < _MINUTE:
        return f"{seconds}s"
    if seconds < _HOUR:
        return f"{seconds // _MINUTE}m"
    if seconds < 2 * _DAY:
        hours, rest = divmod(seconds, _HOUR)
        minutes = rest // _MINUTE
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{seconds // _DAY}d"


def until(expires_at: float, now: float, *, note: str = "") -> str:
    """`expires in 59m (2026-11-27T22:02:16Z)` or `expired 3d ago (2026-11-24T…Z)`; `note`
    (e.g. ", estimated") goes inside the brackets.

    Under a second left counts as expired: a session is never said to expire `in 0s`.
    """
    left = expires_at - now
    if left < 1:
        ago = "just now" if left > -1 else f"{duration(-left)} ago"
        return f"expired {ago} ({iso_utc(expires_at)}{note})"
    return f"expires in {duration(left)} ({iso_utc(expires_at)}{note})"
