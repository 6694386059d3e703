"""Handing a session to other programs: the variables, and how shells and dotenv files quote them.

Nexla's SDK reads `NEXLA_API_URL` and `NEXLA_ACCESS_TOKEN`; this tool reads them too (plus
`NEXLA_ENV`). `token export` prints them for a shell to evaluate, `token exec` starts a
command with them set (tokenexec.py runs it). Either way the token is frozen at that
moment: nothing renews it in the other program, and `NEXLA_ACCESS_TOKEN` wins over the
stored session for this tool too.

Standard library only at import time; the commands import this module when they run.
"""

from __future__ import annotations

import json
from typing import Dict, Optional

from nexla_cli.auth import apitarget, renewal, storedsessions
from nexla_cli.core import settings, timefmt
from nexla_cli.core.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nexla_cli.auth.sessiondeps import SessionDeps

API_URL_VARIABLE = settings.API_URL_VARIABLE
ENV_VARIABLE = settings.ENV_VARIABLE
SERVICE_KEY_VARIABLE = settings.SERVICE_KEY_VARIABLE
FORMATS = ("sh", "fish", "powershell", "dotenv", "json")


class Handoff:
    """What is handed over: the variables, and when the token expires (None if unknown)."""

    def __init__(self, variables: Dict[str, str], expires_at: Optional[float]):
        self.variables = variables
        self.expires_at = expires_at


def handoff(
    deps: SessionDeps,
    explicit_env: Optional[str],
    min_ttl: float = 0,
    *,
    org: Optional[str] = None,
    user: Optional[str] = None,
) -> Handoff:
    """The variables for the chosen environment, its token renewed first when due (or shorter
    lived than `min_ttl`). With $NEXLA_ACCESS_TOKEN set, that token is handed on as it is."""
    # The same rules as `nexla api`: with $NEXLA_ACCESS_TOKEN, the environment is optional
    # when NEXLA_API_URL says where the API is.
    target = apitarget.api_target(deps, explicit_env, org=org, user=user)
    expires_at: Optional[float] = None
    if target.from_variable:
        name, token = target.name, renewal.live_token(deps, explicit_env, min_ttl)
    else:
        name, live = renewal.live_session(deps, explicit_env, min_ttl, org=org, user=user)
        token, expires_at = live.access_token, live.expires_at
    variables = {API_URL_VARIABLE: target.api_url, storedsessions.ACCESS_TOKEN_VARIABLE: token}
    if name:
        variables[ENV_VARIABLE] = name
    for variable, value in variables.items():
        if not value.isprintable() or any(ch.isspace() for ch in value):
            raise UsageError(
                f"{variable} would contain spaces or control characters: not handed on"
            )
    if deps.environ.get(SERVICE_KEY_VARIABLE):
        deps.notices.warn(
            f"{SERVICE_KEY_VARIABLE} is set too: Nexla's SDK uses it instead of "
            f"{storedsessions.ACCESS_TOKEN_VARIABLE}"
        )
    return Handoff(variables, expires_at)


# Quoting for shells ------------------------------------------------------------------------


def quote_sh(value: str) -> str:
    """POSIX single quotes (sh, bash, zsh, dash, ksh): nothing inside is special but `'`."""
    return "'" + value.replace("'", "'\\''") + "'"


def quote_fish(value: str) -> str:
    """fish single quotes: only `\\` and `'` are special inside, each escaped by `\\`."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# PowerShell takes the typographic single quotes as quotes too.
_POWERSHELL_QUOTES = "'\u2018\u2019\u201a\u201b"


def quote_powershell(value: str) -> str:
    """PowerShell single quotes (verbatim): a quote inside is doubled."""
    return "'" + "".join(ch * 2 if ch in _POWERSHELL_QUOTES else ch for ch in value) + "'"


# A dotenv file is read by several programs with different rules, and no quoting reads back
# the same in all of them: docker's --env-file takes the rest of the line literally, quotes
# included; python-dotenv expands ${NAME} even inside single quotes; systemd's
# EnvironmentFile= takes a backslash in a bare value as an escape and a leading quote as the
# start of a quoted value. So a value is written bare, and one holding a character that any
# of them (or docker compose and node's dotenv, for `#` and the backtick) would read
# differently is refused. Every token, URL and name Nexla issues is bare-safe.
DOTENV_REFUSED = "$\\'\"`#"


def dotenv_refusal(value: str) -> str:
    """Why `value` cannot be written to a dotenv file as it is; "" when it can."""
    for ch in value:
        if ch in DOTENV_REFUSED:
            return f"holds {ch!r}"
        if not ch.isprintable() or ch.isspace():
            return "holds spaces or control characters"
    return ""


def quote_dotenv(value: str, name: str = "the value") -> str:
    """`value` as it goes into a dotenv file: bare, which python-dotenv, docker --env-file
    and systemd all read back exactly; UsageError for a value none can be trusted with."""
    refusal = dotenv_refusal(value)
    if refusal:
        raise UsageError(
            f"{name} {refusal}, which dotenv readers do not all read back as it is "
            "(python-dotenv, docker --env-file, systemd); nothing was written",
            hint="use --format sh or --format json, which carry any value",
        )
    return value


def render(handed: Handoff, fmt: str) -> str:
    """The variables as the format's lines (no trailing newline)."""
    items = handed.variables.items()
    if fmt == "sh":
        return "\n".join(f"export {name}={quote_sh(value)}" for name, value in items)
    if fmt == "fish":
        # The semicolons let `eval (nexla token export --format fish)` work too, where
        # fish joins the lines with spaces.
        return "\n".join(f"set -gx {name} {quote_fish(value)};" for name, value in items)
    if fmt == "powershell":
        return "\n".join(f"$env:{name} = {quote_powershell(value)}" for name, value in items)
    if fmt == "dotenv":
        return "\n".join(f"{name}={quote_dotenv(value, name)}" for name, value in items)
    if fmt == "json":
        data: Dict[str, object] = {
            name: handed.variables.get(name)
            for name in (API_URL_VARIABLE, storedsessions.ACCESS_TOKEN_VARIABLE, ENV_VARIABLE)
        }
        data["expires_at"] = (
            None if handed.expires_at is None else timefmt.iso_utc(handed.expires_at)
        )
        return json.dumps(data, indent=2)
    raise UsageError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
