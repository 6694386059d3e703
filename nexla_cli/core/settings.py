"""The NEXLA_* settings: parsed and checked in one place, for the fast path and the full app.

Standard library only (the `token print` fast path checks them before it prints anything).

Every setting is checked on every run, whether or not that run would use it, so a typo in a
script fails at once with exit 2 rather than an hour later when a token falls due. A setting
that is empty (or only blanks) is treated as unset, as shells treat `${NAME:-}`: that is how
`env`-files and CI systems clear a variable.
"""

import math
from collections.abc import Mapping

from nexla_cli.core.errors import UsageError
from nexla_cli.core.text import shown

# (variable, lowest, highest, whether the lowest itself is allowed), in seconds.
TIMEOUT = ("NEXLA_TIMEOUT", 0.0, 3600.0, False)
REFRESH_MARGIN = ("NEXLA_REFRESH_MARGIN", 0.0, 86400.0, True)
LOCK_TIMEOUT = ("NEXLA_LOCK_TIMEOUT", 0.0, 3600.0, True)
NUMBERS = (TIMEOUT, REFRESH_MARGIN, LOCK_TIMEOUT)

KEY_STORAGE_VARIABLE = "NEXLA_KEY_STORAGE"
KEY_STORAGE_CHOICES = ("auto", "keyring", "file")

ACCESS_TOKEN_VARIABLE = "NEXLA_ACCESS_TOKEN"
ENV_VARIABLE = "NEXLA_ENV"
API_URL_VARIABLE = "NEXLA_API_URL"
SERVICE_KEY_VARIABLE = "NEXLA_SERVICE_KEY"
QUIET_VARIABLE = "NEXLA_QUIET"

# The words a yes-or-no setting takes, in any case; empty is unset, as everywhere.
_YES = ("1", "true", "yes", "on")
_NO = ("0", "false", "no", "off")


# Where a refused setting is explained: the help pages do not list the NEXLA_* variables.
SETTINGS_HINT = 'see "Settings" in docs/storage.md (or the README) for what each accepts'

_DECIMAL_CHARACTERS = frozenset("0123456789+-.eE")


def raw(name: str, environ: Mapping[str, str]) -> str | None:
    """The variable's value stripped of blanks; None when unset or blank."""
    value = environ.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def seconds(setting: tuple[str, float, float, bool], environ: Mapping[str, str]) -> float | None:
    """A number-of-seconds setting, None when unset; UsageError when not in its range."""
    name, lowest, highest, lowest_allowed = setting
    text = raw(name, environ)
    if text is None:
        return None
    try:
        # Decimal ASCII only: float() would also take "1_0", "١٠" (Arabic-Indic digits) or
        # full-width digits, none of which the docs allow.
        value = float(text) if all(ch in _DECIMAL_CHARACTERS for ch in text) else math.nan
    except ValueError:
        value = math.nan
    in_range = (value >= lowest if lowest_allowed else value > lowest) and value <= highest
    # nan compares false with everything, so it fails in_range too.
    if not (math.isfinite(value) and in_range):
        above = "at least" if lowest_allowed else "more than"
        raise UsageError(
            f"{name} must be a number of seconds, {above} {lowest:g} and at most "
            f"{highest:g}, not {shown(text, limit=40)}",
            hint=SETTINGS_HINT,
        )
    return value


def timeout(environ: Mapping[str, str]) -> float | None:
    """$NEXLA_TIMEOUT: seconds for connect and for read alike; None when unset."""
    return seconds(TIMEOUT, environ)


def refresh_margin(environ: Mapping[str, str]) -> float | None:
    """$NEXLA_REFRESH_MARGIN: refresh this long before expiry; None when unset."""
    return seconds(REFRESH_MARGIN, environ)


def lock_timeout(default: float, environ: Mapping[str, str]) -> float:
    """$NEXLA_LOCK_TIMEOUT: how long to wait for the store's lock."""
    value = seconds(LOCK_TIMEOUT, environ)
    return default if value is None else value


def access_token(environ: Mapping[str, str]) -> str | None:
    """$NEXLA_ACCESS_TOKEN, stripped; None when unset or blank.

    It is printed and sent as it is, so it follows the rule for any token: printable ASCII
    without spaces (a newline in it would print as two lines), at most 16 KiB.
    """
    from nexla_cli.core.model import MAX_SECRET_LENGTH, fits_a_header

    token = raw(ACCESS_TOKEN_VARIABLE, environ)
    if token is None:
        return None
    if len(token) > MAX_SECRET_LENGTH:
        raise UsageError(
            f"{ACCESS_TOKEN_VARIABLE} is {len(token)} characters long, "
            f"more than a token can be ({MAX_SECRET_LENGTH})"
        )
    if not fits_a_header(token):
        raise UsageError(
            f"{ACCESS_TOKEN_VARIABLE} holds spaces, control or non-ASCII characters: "
            "a token is printable ASCII without spaces"
        )
    return token


# --min-ttl: no session lives longer than a year (model.MAX_LIFETIME_SECONDS caps what a
# server says), so more than that can never be had.
MAX_MIN_TTL = 365 * 86400
_MAX_DIGITS = 12  # a bound before int(), which refuses thousands of digits with an error


def whole_number(option: str, text: str, lowest: int, highest: int, example: str = "") -> int:
    """A command-line count: plain ASCII digits from `lowest` to `highest`; UsageError
    otherwise, in one short line (the value cut, however long it is)."""
    if text.isascii() and text.isdigit() and len(text) <= _MAX_DIGITS:
        if lowest <= int(text) <= highest:
            return int(text)
    raise UsageError(
        f"{option} must be a whole number from {lowest} to {highest}, not {shown(text, limit=40)}",
        hint=example,
    )


def min_ttl(text: str) -> int:
    """`--min-ttl SECONDS`: plain ASCII digits from 0 to a year; UsageError otherwise.

    Checked before anything is read or sent, by the full app and the fast path alike, so
    an absurd value never reaches a request or a message that formats it as a float.
    """
    return whole_number(
        "--min-ttl",
        text,
        0,
        MAX_MIN_TTL,
        "--min-ttl is in seconds, at most a year; --min-ttl 1800 asks for 30 minutes of life",
    )


def key_storage(environ: Mapping[str, str]) -> str:
    """$NEXLA_KEY_STORAGE: where `--save-key` keeps a key (keys.py); auto when unset."""
    text = raw(KEY_STORAGE_VARIABLE, environ)
    if text is None:
        return "auto"
    if text not in KEY_STORAGE_CHOICES:
        raise UsageError(
            f"{KEY_STORAGE_VARIABLE} must be auto, keyring or file, not {shown(text, limit=40)}",
            hint=SETTINGS_HINT,
        )
    return text


def quiet(environ: Mapping[str, str]) -> bool:
    """$NEXLA_QUIET: whether messages on success are left out (as `-q`); False when unset.

    A value other than 1/0, true/false, yes/no, on/off is refused: a cron line that
    misspells it would otherwise mail every run without saying why.
    """
    text = raw(QUIET_VARIABLE, environ)
    if text is None or text.lower() in _NO:
        return False
    if text.lower() in _YES:
        return True
    raise UsageError(
        f"{QUIET_VARIABLE} must be 1 or 0 (or true/false, yes/no, on/off), "
        f"not {shown(text, limit=40)}",
        hint=SETTINGS_HINT,
    )


def env_name(environ: Mapping[str, str]) -> str | None:
    """$NEXLA_ENV as given (not normalised); None when unset or empty."""
    return raw(ENV_VARIABLE, environ)


def check_all(environ: Mapping[str, str]) -> None:
    """Raise UsageError for the first NEXLA_* setting that is not valid.

    NEXLA_ENV and NEXLA_API_URL are checked as names and URLs are everywhere (names.py);
    NEXLA_CONFIG_DIR where the directory is found (paths.py); a service key only where one
    is read.
    """
    for setting in NUMBERS:
        seconds(setting, environ)
    key_storage(environ)
    quiet(environ)
    access_token(environ)
    name, api_url = env_name(environ), raw(API_URL_VARIABLE, environ)
    if name is None and api_url is None:
        return
    from nexla_cli.core import names  # only when needed: names.py imports ipaddress and urllib

    for variable, value, normalize in (
        (ENV_VARIABLE, name, names.normalize_env_name),
        (API_URL_VARIABLE, api_url, names.normalize_api_url),
    ):
        if value is not None:
            try:
                normalize(value)
            except UsageError as exc:
                raise UsageError(f"{variable}: {exc.message}", exc.hint) from None


ORG_VARIABLE = "NEXLA_ORG"
USER_VARIABLE = "NEXLA_USER"


def org_name(environ: Mapping[str, str]) -> str | None:
    """$NEXLA_ORG as given (an org id or name); None when unset or empty."""
    return raw(ORG_VARIABLE, environ)


def user_email(environ: Mapping[str, str]) -> str | None:
    """$NEXLA_USER as given (an email); None when unset or empty."""
    return raw(USER_VARIABLE, environ)
