"""What a stored session is, and when it is due for a refresh.

Standard library only: the `token print` fast path decides freshness with this module, so
it stays light too (no dataclasses, no typing at run time; tests/e2e/test_startup.py checks).
"""

from __future__ import annotations

import math

# For type checkers only (see deps.py): `typing` costs milliseconds of every `token print`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    #: A JSON object as read from the file or a server: what is in it is checked where used.
    JsonObject = dict[str, Any]

# A pasted token's lifetime is unknown; Nexla sessions last about an hour.
ESTIMATED_LIFETIME_SECONDS = 3600
# A JWT's `exp` further ahead than this is not believed (as `expires_in` beyond a year is not).
MAX_TOKEN_LIFETIME_SECONDS = 366 * 24 * 3600
# A Nexla token or key is a JWT of a few KB at most: anything longer is refused, whether a
# user, a variable or a server gives it (an oversized header would be refused anyway).
MAX_SECRET_LENGTH = 16 * 1024
DEFAULT_MARGIN_SECONDS = 300
# How long a failed refresh is remembered, so a crowd of processes makes one attempt.
FAILURE_MEMORY_SECONDS = 30
# 9999-12-31T23:59:59Z: the last instant a stored time may name.
_LATEST_TIME = 253402300799
# A session obtained more than this far in the future means the clock was moved.
CLOCK_SLACK_SECONDS = 5


class Session:
    """One identity's session as stored (one user in one org on an environment).

    A plain class rather than a dataclass: `dataclasses` imports `inspect`, which cost
    about 10 ms of every `nexla token print` (the fast path reads sessions with this).

    `extra` keeps the fields of a stored session this version does not know (a newer
    nexla's minor addition), so that rewriting the session after a change of ours (a
    refresh failure remembered) does not lose them. A new session starts without any.
    """

    FIELDS = (
        "access_token",
        "obtained_at",
        "expires_at",
        "source",
        "user",
        "org",
        "expires_estimated",
        "token_type",
        "refresh_failure",
    )

    def __init__(
        self,
        access_token: str,
        obtained_at: int,
        expires_at: int,
        source: str,
        user: JsonObject,
        org: JsonObject | None = None,
        expires_estimated: bool = False,
        token_type: str = "Bearer",
        # {"at": epoch, "kind": "unreachable" | "rejected" | "not_offered", "message": str}
        # after a failed refresh
        refresh_failure: JsonObject | None = None,
        extra: JsonObject | None = None,
    ) -> None:
        self.access_token = access_token
        self.obtained_at = obtained_at
        self.expires_at = expires_at
        self.source = source
        self.user = user
        self.org = org
        self.expires_estimated = expires_estimated
        self.token_type = token_type
        self.refresh_failure = refresh_failure
        self.extra: JsonObject = extra or {}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Session):
            return NotImplemented
        return self.extra == other.extra and all(
            getattr(self, name) == getattr(other, name) for name in self.FIELDS
        )

    def __repr__(self) -> str:
        # Never the token: a repr can end up in a traceback or a log.
        return (
            f"Session(source={self.source!r}, obtained_at={self.obtained_at}, "
            f"expires_at={self.expires_at}, user={self.user!r})"
        )

    @classmethod
    def from_dict(cls, raw: object) -> Session:
        """The session a stored JSON value describes; ValueError (saying what is wrong) when
        it is damaged.

        The one parser of stored sessions: store.Environment calls it as the file is read,
        and the policy for a damaged one (see store.py, "A damaged session") follows from
        there.
        """
        if not isinstance(raw, dict):
            raise ValueError("session is not an object")
        token = raw.get("access_token")
        if not isinstance(token, str) or not token:
            raise ValueError("session has no access token")
        if not fits_a_header(token):
            # Printed as it is by `token print`: a hand-edited newline or escape must not be.
            raise ValueError("the access token holds spaces, control or non-ASCII characters")
        failure = raw.get("refresh_failure") or None
        if failure is not None and not (
            isinstance(failure, dict)
            and isinstance(failure.get("at"), (int, float))
            and isinstance(failure.get("kind"), str)
        ):
            raise ValueError("malformed refresh_failure")
        try:
            return cls(
                access_token=token,
                obtained_at=int(raw["obtained_at"]),
                expires_at=int(raw["expires_at"]),
                source=str(raw.get("source", "pasted")),
                user=_with_plain_id(dict(raw.get("user") or {})),
                org=_with_plain_id(dict(raw["org"])) if raw.get("org") else None,
                expires_estimated=bool(raw.get("expires_estimated", False)),
                token_type=str(raw.get("token_type") or "Bearer"),
                refresh_failure=failure,
                extra={key: _copied(value) for key, value in raw.items() if key not in cls.FIELDS},
            )._check_times()
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"malformed session ({exc})") from None

    def _check_times(self) -> Session:
        # Times people and tools read back as dates: anything past year 9999 (or before
        # 1970) is a damaged file, not a session.
        for name in ("obtained_at", "expires_at"):
            if not 0 <= getattr(self, name) <= _LATEST_TIME:
                raise ValueError(f"{name} out of range")
        return self

    def to_dict(self) -> JsonObject:
        data = {key: _copied(value) for key, value in self.extra.items()}
        data.update((name, _copied(getattr(self, name))) for name in self.FIELDS)
        if data["refresh_failure"] is None:
            del data["refresh_failure"]
        return data

    @property
    def expiry_source(self) -> str:
        """Where expires_at came from: "server" (expires_in), "token" (a pasted JWT's exp)
        or "estimate" (a pasted token that says nothing: one hour assumed)."""
        if self.expires_estimated:
            return "estimate"
        return "token" if self.source == "pasted" else "server"

    @property
    def lifetime(self) -> int:
        return max(self.expires_at - self.obtained_at, 0)

    def margin(self, override: float | None) -> float:
        """Refresh this long before expiry: `override` ($NEXLA_REFRESH_MARGIN), else 5 min or
        a quarter of the lifetime."""
        if override is not None:
            return override
        return min(DEFAULT_MARGIN_SECONDS, self.lifetime / 4)

    def seconds_left(self, now: float) -> float:
        return self.expires_at - now

    def is_expired(self, now: float) -> bool:
        return self.seconds_left(now) <= 0

    @property
    def rejected(self) -> bool:
        """The server refused to refresh this token: it is dead, whatever its expiry says."""
        return bool(self.refresh_failure and self.refresh_failure.get("kind") == "rejected")

    @property
    def refresh_not_offered(self) -> bool:
        """The server answered the refresh with a 4xx other than 401/403: it has none."""
        return bool(self.refresh_failure and self.refresh_failure.get("kind") == "not_offered")

    def clock_moved(self, now: float) -> bool:
        """Obtained in the future, i.e. more time left than the server gave: the clock was
        set back since (or was ahead then), so neither the expiry nor the margin can be
        trusted."""
        return self.obtained_at > now + CLOCK_SLACK_SECONDS

    def is_expired_or_untrusted(self, now: float) -> bool:
        """Expired, or of unknown age because the clock moved: either way not to be used."""
        return self.is_expired(now) or self.clock_moved(now)

    def is_fresh(self, now: float, margin_override: float | None) -> bool:
        """Usable as it is, with no refresh due."""
        return (
            not self.rejected
            and not self.clock_moved(now)
            and self.seconds_left(now) > self.margin(margin_override)
        )

    def recent_failure(self, now: float) -> JsonObject | None:
        """The remembered network/server failure of a refresh, if still within its window.

        One dated in the future was written before the clock was set back: stale.
        """
        failure = self.refresh_failure
        if not failure or failure.get("kind") != "unreachable":
            return None
        if 0 <= now - float(failure.get("at", 0)) < FAILURE_MEMORY_SECONDS:
            return failure
        return None


def fits_a_header(secret: str) -> bool:
    """Nexla tokens and keys are printable ASCII without spaces; anything else cannot travel
    in an Authorization header as it is."""
    return bool(secret) and all(33 <= ord(ch) <= 126 for ch in secret)


def jwt_expiry(token: str, now: float) -> int | None:
    """The expiry (epoch seconds) stated by the `exp` claim of a token that is a JWT, else None.

    Decoded, never verified: the claim is used only to know when to renew, never to decide
    that a token is valid. Anything odd (not three base64url parts, claims that are not a
    JSON object, an `exp` that is not a finite number, in the past or over a year ahead)
    gives None, never an exception, whatever the string.
    """
    if not isinstance(token, str) or len(token) > MAX_SECRET_LENGTH:
        return None
    parts = token.split(".")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return None
    if not all(_is_base64url(part) for part in parts):
        return None
    claims = _json_from_base64url(parts[1])
    if not isinstance(claims, dict):
        return None
    exp = claims.get("exp")
    # bool is an int in Python, and JSON's true is no time.
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return None
    if isinstance(exp, float) and not math.isfinite(exp):
        return None
    if not now < exp <= now + MAX_TOKEN_LIFETIME_SECONDS:
        return None
    return int(exp)


def pasted_token_expiry(token: str, now: int) -> tuple[int, bool]:
    """(expires_at, estimated) for a pasted token: its JWT `exp` when it states a usable one,
    else one hour from `now`, marked as an estimate."""
    stated = jwt_expiry(token, now)
    if stated is not None:
        return stated, False
    return now + ESTIMATED_LIFETIME_SECONDS, True


def _is_base64url(part: str) -> bool:
    # Checked by hand: base64's decoders skip characters outside the alphabet.
    return all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in part)


def _json_from_base64url(part: str) -> object:
    """The JSON value encoded in one JWT part, or None."""
    import base64
    import binascii
    import json

    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        return json.loads(raw)
    # ValueError covers bad padding (binascii.Error), bad UTF-8 and bad JSON (including an
    # integer too long to convert); RecursionError, JSON nested thousands deep.
    except (ValueError, binascii.Error, RecursionError, TypeError):
        return None


# The longest session lifetime believed; a server granting more is capped to it.
MAX_LIFETIME_SECONDS = 365 * 86400
# Beyond this an `expires_in` is no lifetime at all (1e308, 2**63): treated as unknown.
IMPLAUSIBLE_LIFETIME_SECONDS = 100 * 365 * 86400


def lifetime_from_server(expires_in: object) -> tuple[int, bool]:
    """(seconds, estimated) for a server's `expires_in`.

    A finite number of seconds from 1 to a year is taken as it is; more than a year is
    capped at a year; anything else (missing, a string, a boolean, below one second,
    infinite, or absurdly large) is an unknown lifetime: one hour is estimated, as for a
    pasted token, and the server's answer to the next refresh settles it.
    """
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)):
        return ESTIMATED_LIFETIME_SECONDS, True
    if not (1 <= expires_in <= IMPLAUSIBLE_LIFETIME_SECONDS):  # also false for NaN
        return ESTIMATED_LIFETIME_SECONDS, True
    return int(min(expires_in, MAX_LIFETIME_SECONDS)), False


def session_from_token_response(body: JsonObject, source: str, now: float) -> Session:
    """A Session from the 200 body of POST /token or /token/refresh (already checked)."""
    obtained_at = int(now)
    lifetime, estimated = lifetime_from_server(body.get("expires_in"))
    token_type = body.get("token_type")
    if not (isinstance(token_type, str) and token_type.isascii() and token_type.isalnum()):
        token_type = "Bearer"
    return Session(
        access_token=body["access_token"],
        token_type=token_type[:32],
        obtained_at=obtained_at,
        expires_at=obtained_at + lifetime,
        expires_estimated=estimated,
        source=source,
        user=user_summary(body.get("user")),
        org=org_summary(body.get("org")),
    )


_PERSON_FIELDS = ("id", "email", "full_name")


def user_summary(user: object) -> JsonObject:
    """What a session keeps of the server's user: who it is and, only when an admin is acting
    as them, `impersonated: true` and who the `impersonator` is. Nothing else: the server's
    user and membership records may carry API keys, which are never stored."""
    if not isinstance(user, dict):
        return {}
    summary = _with_plain_id({key: user.get(key) for key in _PERSON_FIELDS})
    if user.get("impersonated") is True:
        admin = user.get("impersonator")
        summary["impersonated"] = True
        summary["impersonator"] = (
            {key: admin.get(key) for key in _PERSON_FIELDS} if isinstance(admin, dict) else None
        )
    return summary


def org_summary(org: object) -> JsonObject | None:
    if not isinstance(org, dict):
        return None
    return _with_plain_id({key: org.get(key) for key in ("id", "name")})


def _with_plain_id(record: JsonObject) -> JsonObject:
    """`record` with its `id` a plain JSON value (text, a number, true/false or null): an
    id that is a list or an object (from a server, or edited into the file) is kept as its
    JSON text, so that every identity key can be compared and hashed."""
    value = record.get("id")
    if value is not None and not isinstance(value, (str, int, float)):
        import json

        record["id"] = json.dumps(value, sort_keys=True)
    return record


def _copied(value: object) -> object:
    """A copy of nested dicts and lists (as dataclasses.asdict made), so callers cannot alias."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    return value
