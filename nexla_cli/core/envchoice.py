"""Which environment a command acts on, and where that choice came from.

`--env NAME`, else `$NEXLA_ENV`, else the current environment recorded in the store. The
`token print` fast path and the full app both ask here, so the rule exists once. Standard
library only, and not even `typing`: the fast path imports it.
"""

from __future__ import annotations

from collections.abc import Mapping

from nexla_cli.core import settings

FROM_OPTION = "--env"
FROM_VARIABLE = settings.ENV_VARIABLE
FROM_CURRENT = "the current environment"


class Choice:
    """The environment as given (not yet normalised) and what chose it (FROM_OPTION,
    FROM_VARIABLE or FROM_CURRENT); both None when nothing did."""

    __slots__ = ("name", "source")

    def __init__(self, name: str | None, source: str | None) -> None:
        self.name = name
        self.source = source

    def __repr__(self) -> str:
        return f"Choice({self.name!r}, {self.source!r})"


def choose(explicit: str | None, environ: Mapping[str, str], current: object) -> Choice:
    """--env, else $NEXLA_ENV (blank counts as unset), else `current` (the store's)."""
    if explicit:
        return Choice(explicit, FROM_OPTION)
    named = settings.env_name(environ)
    if named:
        return Choice(named, FROM_VARIABLE)
    if isinstance(current, str) and current:
        return Choice(current, FROM_CURRENT)
    return Choice(None, None)
