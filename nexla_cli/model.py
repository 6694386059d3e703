"""What a stored session is, and when it is due for a refresh.

Standard library only: the `token print` fast path decides freshness with this module, so
it stays light too (no dataclasses, no typing; tests/test_startup.py checks).
"""

import math
import os
import time

from nexla_cli.errors import UsageError

# A pasted token's lifetime is unknown; Nexla sessions last about an hour.
ESTIMATED_LIFETIME_SECONDS = 3600
DEFAULT_MARGIN_SECONDS = 300
# How long a failed refresh is remembered, so a crowd of processes makes one attempt.
FAILURE_MEMORY_SECONDS = 30
# A session obtained more than this far in the future means the clock was moved.
CLOCK_SLACK_SECONDS = 5


class Session:
    """One environment's session as stored.

    A plain class rather than a dataclass: `dataclasses` imports `inspect`, which cost
    about 10 ms of every `nexla token print` (the fast path reads sessions with this).
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
        user: dict,
        org: dict | None = None,
        expires_estimated: bool = False,
        token_type: str = "Bearer",
        # {"at": epoch, "kind": "unreachable" | "rejected" | "not_offered", "message": str}
        # after a failed refresh
        refresh_failure: dict | None = None,
    ):
        self.access_token = access_token
        self.obtained_at = obtained_at
        self.expires_at = expires_at
        self.source = source
        self.user = user
        self.org = org
        self.expires_estimated = expires_estimated
        self.token_type = token_type
        self.refresh_failure = refresh_failure

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Session):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.FIELDS)

    def __repr__(self) -> str:
        # Never the token: a repr can end up in a traceback or a log.
        return (
            f"Session(source={self.source!r}, obtained_at={self.obtained_at}, "
            f"expires_at={self.expires_at}, user={self.user!r})"
        )

    @classmethod
    def from_dict(cls, raw: dict) -> "Session":
        """Raises ValueError when the stored session is malformed."""
        if not isinstance(raw, dict):
            raise ValueError("session is not an object")
        token = raw.get("access_token")
        if not isinstance(token, str) or not token:
            raise ValueError("session has no access token")
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
                user=dict(raw.get("user") or {}),
                org=dict(raw["org"]) if raw.get("org") else None,
                expires_estimated=bool(raw.get("expires_estimated", False)),
                token_type=str(raw.get("token_type") or "Bearer"),
                refresh_failure=failure,
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"malformed session ({exc})") from None

    def to_dict(self) -> dict:
        data = {name: _copied(getattr(self, name)) for name in self.FIELDS}
        if data["refresh_failure"] is None:
            del data["refresh_failure"]
        return data

    @property
    def lifetime(self) -> int:
        return max(self.expires_at - self.obtained_at, 0)

    def margin(self) -> float:
        """Refresh this long before expiry: $NEXLA_REFRESH_MARGIN, else 5 min or a quarter."""
        override = refresh_margin_override()
        if override is not None:
            return override
        return min(DEFAULT_MARGIN_SECONDS, self.lifetime / 4)

    def seconds_left(self, now: float | None = None) -> float:
        return self.expires_at - (time.time() if now is None else now)

    def is_expired(self, now: float | None = None) -> bool:
        return self.seconds_left(now) <= 0

    @property
    def rejected(self) -> bool:
        """The server refused to refresh this token: it is dead, whatever its expiry says."""
        return bool(self.refresh_failure and self.refresh_failure.get("kind") == "rejected")

    @property
    def refresh_not_offered(self) -> bool:
        """The server answered the refresh with a 4xx other than 401/403: it has none."""
        return bool(self.refresh_failure and self.refresh_failure.get("kind") == "not_offered")

    def clock_moved(self, now: float | None = None) -> bool:
        """Obtained in the future, i.e. more time left than the server gave: the clock was
        set back since (or was ahead then), so neither the expiry nor the margin can be
        trusted."""
        now = time.time() if now is None else now
        return self.obtained_at > now + CLOCK_SLACK_SECONDS

    def is_fresh(self, now: float | None = None) -> bool:
        """Usable as it is, with no refresh due."""
        return (
            not self.rejected
            and not self.clock_moved(now)
            and self.seconds_left(now) > self.margin()
        )

    def recent_failure(self, now: float | None = None) -> dict | None:
        """The remembered network/server failure of a refresh, if still within its window.

        One dated in the future was written before the clock was set back: stale.
        """
        failure = self.refresh_failure
        if not failure or failure.get("kind") != "unreachable":
            return None
        now = time.time() if now is None else now
        if 0 <= now - float(failure.get("at", 0)) < FAILURE_MEMORY_SECONDS:
            return failure
        return None


def fits_a_header(secret: str) -> bool:
    """Nexla tokens and keys are printable ASCII without spaces; anything else cannot travel
    in an Authorization header as it is."""
    return bool(secret) and all(33 <= ord(ch) <= 126 for ch in secret)


def refresh_margin_override() -> float | None:
    raw = os.environ.get("NEXLA_REFRESH_MARGIN")
    if raw is None or raw.strip() == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"NEXLA_REFRESH_MARGIN must be a number of seconds, not {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"NEXLA_REFRESH_MARGIN must be a number of seconds, not {raw!r}")
    return value


def session_from_token_response(body: dict, source: str, now: float | None = None) -> Session:
    """A Session from the 200 body of POST /token or /token/refresh (already checked)."""
    now = int(time.time() if now is None else now)
    return Session(
        access_token=body["access_token"],
        token_type=str(body.get("token_type") or "Bearer"),
        obtained_at=now,
        expires_at=now + int(body["expires_in"]),
        expires_estimated=False,
        source=source,
        user=user_summary(body.get("user")),
        org=org_summary(body.get("org")),
    )


def user_summary(user: object) -> dict:
    if not isinstance(user, dict):
        return {}
    return {key: user.get(key) for key in ("id", "email", "full_name")}


def org_summary(org: object) -> dict | None:
    if not isinstance(org, dict):
        return None
    return {key: org.get(key) for key in ("id", "name")}


def _copied(value: object) -> object:
    """A copy of nested dicts and lists (as dataclasses.asdict made), so callers cannot alias."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    return value
