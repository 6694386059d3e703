"""What a stored session is, and when it is due for a refresh.

Standard library only: the `token print` fast path decides freshness with this module.
"""

import dataclasses
import math
import os
import time
from typing import Optional

from nexla_cli.errors import UsageError

# A pasted token's lifetime is unknown; Nexla sessions last about an hour.
ESTIMATED_LIFETIME_SECONDS = 3600
DEFAULT_MARGIN_SECONDS = 300
# How long a failed refresh is remembered, so a crowd of processes makes one attempt.
FAILURE_MEMORY_SECONDS = 30

SOURCES = ("pasted", "refreshed", "service_key")


@dataclasses.dataclass
class Session:
    access_token: str
    obtained_at: int
    expires_at: int
    source: str
    user: dict
    org: Optional[dict] = None
    expires_estimated: bool = False
    token_type: str = "Bearer"
    # {"at": epoch, "kind": "unreachable" | "rejected", "message": str} after a failed refresh
    refresh_failure: Optional[dict] = None

    @classmethod
    def from_dict(cls, raw: dict) -> "Session":
        """Raises ValueError when the stored session is malformed."""
        if not isinstance(raw, dict):
            raise ValueError("session is not an object")
        token = raw.get("access_token")
        if not isinstance(token, str) or not token:
            raise ValueError("session has no access token")
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
                refresh_failure=raw.get("refresh_failure") or None,
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"malformed session ({exc})") from None

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
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

    def seconds_left(self, now: Optional[float] = None) -> float:
        return self.expires_at - (time.time() if now is None else now)

    def is_expired(self, now: Optional[float] = None) -> bool:
        return self.seconds_left(now) <= 0

    @property
    def rejected(self) -> bool:
        """The server refused to refresh this token: it is dead, whatever its expiry says."""
        return bool(self.refresh_failure and self.refresh_failure.get("kind") == "rejected")

    def is_fresh(self, now: Optional[float] = None) -> bool:
        """Usable as it is, with no refresh due."""
        return not self.rejected and self.seconds_left(now) > self.margin()

    def recent_failure(self, now: Optional[float] = None) -> Optional[dict]:
        """The remembered network/server failure of a refresh, if still within its window."""
        failure = self.refresh_failure
        if not failure or failure.get("kind") != "unreachable":
            return None
        now = time.time() if now is None else now
        if now - float(failure.get("at", 0)) < FAILURE_MEMORY_SECONDS:
            return failure
        return None


def refresh_margin_override() -> Optional[float]:
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


def session_from_token_response(body: dict, source: str, now: Optional[float] = None) -> Session:
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


def org_summary(org: object) -> Optional[dict]:
    if not isinstance(org, dict):
        return None
    return {key: org.get(key) for key in ("id", "name")}
