"""Renewing a session, decided: what to do with a stored session (use it, refresh it, mint
a new one from the saved key, or fail), and what each answer of the server means.

docs/sessions.md says the rules; this module is them, as pure functions of the facts given
(no I/O, no clock, no store, no keyring). renewal.py gathers the facts, sends what the plan
says, writes what the verdict records, and reports what it answers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, Optional, Union

from nexla_cli.core import identities, timefmt
from nexla_cli.core.errors import LOGIN_HINT, AuthError, NetworkError, NexlaError, UsageError
from nexla_cli.core.model import FAILURE_MEMORY_SECONDS, Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nexla_cli.core.model import JsonObject

# The saved service key, as far as it is known without reading it: none saved, saved (and
# not refused: it may be sent), refused by the server earlier (never sent again).
KeyState = Literal["none", "saved", "refused"]
# What the server answered: a new session; the refresh (or the key) refused with 401/403;
# a refresh this server does not offer (another 4xx); no answer that is a session (a
# timeout, a reset, 5xx); the saved key could not be read from where it is kept.
AnswerKind = Literal["session", "refused", "not offered", "unreachable", "key unreadable"]
Request = Literal["refresh", "mint"]


@dataclass(frozen=True)
class Situation:
    """The facts a renewal is decided on."""

    name: str
    stored: Session
    now: float
    key: KeyState = "none"
    # $NEXLA_API_URL names the environment's own host: the stored session is not renewed
    # through it. `foreign_api_url` is the error for a variable naming another host.
    api_url_overridden: bool = False
    foreign_api_url: Optional[NexlaError] = None
    margin_override: Optional[float] = None
    min_ttl: float = 0
    forced: bool = False
    # The token the caller found due (or, with `seen_token_refused`, was refused with).
    seen_token: Optional[str] = None
    seen_token_refused: bool = False
    # Who the session belongs to, where the environment holds several identities
    # (`ada@example.com in Acme (org 7)`); empty where it holds one.
    identity: str = ""

    @property
    def subject(self) -> str:
        """Whose session, as messages say it: the environment, and the identity where
        there are several on it."""
        return of_identity(self.name, self.identity)

    @property
    def expired(self) -> bool:
        return self.stored.is_expired_or_untrusted(self.now)

    @property
    def refused_token(self) -> Optional[str]:
        return self.seen_token if self.seen_token_refused else None


@dataclass(frozen=True)
class Use:
    """Hand out `session` (the stored one, or a new one to store), after `warning` if any."""

    session: Session
    warning: str = ""


@dataclass(frozen=True)
class Send:
    """Ask the server: `refresh` the stored token, or `mint` a session from the saved key."""

    request: Request


@dataclass(frozen=True)
class Fail:
    error: NexlaError


Step = Union[Use, Send, Fail]


@dataclass(frozen=True)
class Answer:
    kind: AnswerKind
    session: Optional[Session] = None  # with "session"
    message: str = ""  # with "not offered" and "unreachable": what the server or network said
    error: Optional[NexlaError] = None  # with "key unreadable"


@dataclass(frozen=True)
class Verdict:
    """What an answer means: the next step, and what to record in the stored session
    (`failure`, its refresh_failure; None: unchanged) and the saved key (`key_refused`)."""

    step: Step
    failure: Optional[JsonObject] = None
    key_refused: bool = False


# Deciding ----------------------------------------------------------------------------------


def good_as_is(stored: Session, now: float, margin_override: float | None, min_ttl: float) -> bool:
    """Usable without taking the lock: fresh, with at least `min_ttl` seconds to live."""
    return stored.is_fresh(now, margin_override) and stored.seconds_left(now) >= min_ttl


def plan(situation: Situation) -> Step:
    """What to do with the stored session, the store's lock held."""
    s = _effective(situation)
    stored = s.stored
    if _renewed_meanwhile(s):
        return Use(stored)
    if not situation.forced and good_as_is(stored, s.now, s.margin_override, s.min_ttl):
        return Use(stored)
    if s.foreign_api_url is not None:
        return Fail(s.foreign_api_url)
    if stored.rejected and s.key != "saved":
        return Fail(dead_session_error(s.name, key_refused=s.key == "refused", identity=s.identity))
    if s.api_url_overridden:
        return not_sent(
            s,
            "NEXLA_API_URL is set (a session renewed through it would not be stored)",
            UsageError(
                f"the session for {s.subject} cannot be renewed while NEXLA_API_URL is set: "
                "nothing learned through it is stored",
                hint="unset NEXLA_API_URL to renew the stored session",
            ),
        )
    remembered = stored.recent_failure(s.now)
    if remembered:
        reason = str(remembered.get("message", "the server could not be reached"))
        return _unreachable(s, reason, remembered_at=float(remembered.get("at", s.now)))
    if stored.refresh_not_offered and s.key != "saved":
        return _not_offered(s, stored.refresh_failure)
    if s.key == "saved" and (s.expired or stored.rejected or stored.refresh_not_offered):
        return Send("mint")
    return Send("refresh")


def not_sent(situation: Situation, reason: str, error: NexlaError) -> Use | Fail:
    """Nothing could be sent (`reason`): a due but valid token is used with a warning,
    else `error`."""
    s = _effective(situation)
    if not _still_usable(s):
        return Fail(error)
    return Use(
        s.stored,
        f"did not refresh the session for {s.subject} ({reason}); using the current token, "
        f"valid until {timefmt.iso_utc(s.stored.expires_at)}",
    )


def judge(
    situation: Situation, sent: Request, answer: Answer, *, refused_now: bool = False
) -> Verdict:
    """What the server's `answer` to `sent` means. `refused_now`: this renewal's refresh
    was refused before the mint now judged."""
    s = _effective(situation)
    if answer.kind == "session":
        assert answer.session is not None
        if _someone_elses(s.stored, answer.session):
            return Verdict(Fail(_someone_elses_error(s, answer.session)))
        return Verdict(Use(answer.session))
    at = int(s.now)
    if sent == "refresh":
        return _judge_refresh(s, answer, at)
    if answer.kind == "unreachable":
        if s.stored.rejected or refused_now:
            # The refresh was refused and the key could not be tried: the mark stays.
            return Verdict(
                Fail(
                    NetworkError(
                        f"the session for {s.subject} was refused and a new one could not be "
                        f"minted: {answer.message}",
                        hint="try again when the server is reachable",
                    )
                )
            )
        return _judge_unreachable(s, answer, at)
    if answer.kind == "key unreadable":
        assert answer.error is not None
        return Verdict(Fail(answer.error))
    # Only the saved key can be refused here: remembered, and not sent again until a key
    # is saved anew or someone signs in.
    rejected = s.stored.rejected or refused_now
    failure: JsonObject | None = (
        {"at": at, "kind": "rejected"} if s.expired and not rejected else None
    )
    return Verdict(
        Fail(key_refused_error(s.name, identity=s.identity)), failure=failure, key_refused=True
    )


def _judge_refresh(s: Situation, answer: Answer, at: int) -> Verdict:
    if answer.kind == "refused":
        failure: JsonObject = {"at": at, "kind": "rejected"}
        if s.key == "saved":
            return Verdict(Send("mint"), failure)
        return Verdict(
            Fail(dead_session_error(s.name, key_refused=s.key == "refused", identity=s.identity)),
            failure,
        )
    if answer.kind == "not offered":
        # This server has no refresh: not an outage, and asking again won't help.
        failure = {"at": at, "kind": "not_offered", "message": answer.message}
        if s.key == "saved":
            return Verdict(Send("mint"), failure)
        return Verdict(_not_offered(s, failure), failure)
    return _judge_unreachable(s, answer, at)


def _someone_elses(stored: Session, renewed: Session) -> bool:
    """Whether a renewal's answer is a session of another identity than the one renewed (a
    refresh keeps the user and the org; a key belongs to one org). A session stored without
    knowing whose it was (`--no-verify`) is learning it, not changing it."""
    if stored.user.get("id") is None:
        return False
    return not identities.same_key(_key(stored), _key(renewed))


def _key(session: Session) -> identities.Key:
    return session.user.get("id"), (session.org or {}).get("id")


def _someone_elses_error(s: Situation, renewed: Session) -> NetworkError:
    org = renewed.org or {}
    other = identities.label(renewed.user.get("email"), org.get("name"), org.get("id"))
    return NetworkError(
        f"the server answered the renewal of the session for {s.subject} with a session of "
        f"{other}; nothing was stored (a renewal keeps its user and org)"
    )


def _judge_unreachable(s: Situation, answer: Answer, at: int) -> Verdict:
    failure: JsonObject = {"at": at, "kind": "unreachable", "message": answer.message}
    return Verdict(_unreachable(s, answer.message), failure)


def min_ttl_error(
    name: str, renewed: Session, now: float, min_ttl: float, identity: str = ""
) -> NexlaError | None:
    """After a renewal: why the session handed out still has less than `min_ttl` left."""
    left = renewed.seconds_left(now)
    if left >= min_ttl:
        return None
    if renewed.lifetime >= min_ttl:
        # Not renewed (the server could not be reached; a warning said why), and the
        # token it fell back on has too little left.
        return NetworkError(
            f"the session for {of_identity(name, identity)} could not be renewed and has "
            f"{timefmt.duration(left)} left, less than --min-ttl {min_ttl:.0f}",
            hint="try again when the server is reachable",
        )
    # Renewing again would not help: the server grants shorter sessions. The renewed one
    # is stored and kept.
    return UsageError(
        f"--min-ttl {min_ttl:.0f} is longer than the sessions {name} grants "
        f"({timefmt.duration(renewed.lifetime)}); the renewed session is kept",
        hint=f"ask for less than {timefmt.duration(renewed.lifetime)}",
    )


# The rules behind the steps -----------------------------------------------------------------


def _effective(s: Situation) -> Situation:
    """A valid token without min_ttl left cannot stand in for a renewal that failed (an
    expired one never can, and says so in its own words): as if the renewal were forced."""
    long_enough = s.stored.seconds_left(s.now) >= s.min_ttl
    if s.forced or long_enough or s.expired:
        return s
    return replace(s, forced=True)


def _renewed_meanwhile(s: Situation) -> bool:
    """Another process renewed it (or signed in again) while this one waited for the lock.
    Compared by token, not by time: a clock second holds several commands. A session
    shorter-lived than min_ttl is not renewed twice: the caller reports it."""
    stored = s.stored
    return (
        s.seen_token is not None
        and stored.access_token != s.seen_token
        and not stored.rejected
        and not s.expired
        and (stored.seconds_left(s.now) >= s.min_ttl or stored.lifetime < s.min_ttl)
    )


def _still_usable(s: Situation) -> bool:
    """Whether an unrenewed session may still be handed out (with a warning)."""
    return (
        not s.forced
        and not s.stored.rejected
        and not s.expired
        and s.stored.access_token != s.refused_token
    )


def _not_offered(s: Situation, failure: JsonObject | None) -> Use | Fail:
    """The server has no refresh and no key is saved: a sign-in is the only way on."""
    detail = (failure or {}).get("message") or "it answered the refresh with an error"
    if not _still_usable(s):
        return Fail(
            AuthError(
                f"{s.name} does not refresh sessions ({detail}), so the session cannot be renewed",
                hint=f"{LOGIN_HINT} (`nexla env login --env {s.name}`), or save a service key "
                f"with `nexla token from-key --env {s.name} --save-key` to renew without "
                "signing in",
            )
        )
    return Use(
        s.stored,
        f"{s.name} does not refresh sessions ({detail}); using the current token, valid until "
        f"{timefmt.iso_utc(s.stored.expires_at)}: sign in again before then",
    )


def _unreachable(s: Situation, reason: str, *, remembered_at: float | None = None) -> Use | Fail:
    when = ""
    if remembered_at is not None:
        ago = max(int(s.now - remembered_at), 0)
        when = (
            f" {timefmt.duration(ago)} ago; not retried for "
            f"{timefmt.duration(FAILURE_MEMORY_SECONDS)}"
        )
    stored = s.stored
    if s.forced:
        # After the API refused the token, it is no longer known to be valid.
        still = (
            ""
            if s.expired or stored.access_token == s.refused_token
            else "; the current token stays valid until " + timefmt.iso_utc(stored.expires_at)
        )
        return Fail(
            NetworkError(f"the session for {s.subject} could not be renewed: {reason}{when}{still}")
        )
    if s.expired:
        return Fail(
            NetworkError(
                f"the session for {s.subject} has expired and could not be renewed: {reason}{when}",
                hint="try again when the server is reachable",
            )
        )
    return Use(
        stored,
        f"could not refresh the session for {s.subject} ({reason}{when}); using the current "
        f"token, valid until {timefmt.iso_utc(stored.expires_at)}",
    )


def of_identity(name: str, identity: str) -> str:
    """`dataops.nexla.io`, or `ada@example.com in Acme (org 7) on dataops.nexla.io`."""
    return f"{identity} on {name}" if identity else name


def dead_session_error(name: str, *, key_refused: bool = False, identity: str = "") -> AuthError:
    subject = of_identity(name, identity)
    if key_refused:
        return AuthError(
            f"the session for {subject} has expired or was revoked, and its saved service key "
            "was rejected earlier (it is not sent again)",
            hint=f"{LOGIN_HINT} (`nexla env login --env {name}`), or save a valid key with "
            f"`nexla token from-key --env {name} --save-key`",
        )
    return AuthError(
        f"the session for {subject} has expired or was revoked (the server refused to refresh it)",
        hint=f"{LOGIN_HINT} (`nexla env login --env {name}`)",
    )


def key_refused_error(name: str, *, identity: str = "") -> AuthError:
    return AuthError(
        f"the saved service key for {of_identity(name, identity)} was rejected; it will not be "
        "sent again",
        hint=f"save a valid key with `nexla token from-key --env {name} --save-key`, "
        f"or `nexla env login --env {name}`",
    )
