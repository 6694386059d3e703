"""Renewing sessions: a token that is good to use now, refreshed or re-minted when due.

Renewal is single-flight across processes: it happens under the store's lock, and a
process that waited for the lock first looks at what the previous holder left behind (a
fresh token, or a failure remembered for FAILURE_MEMORY_SECONDS) before asking the server.
What to do (use, refresh, mint, fail) and what each answer means is decided by
renewal_plan.py; this module gathers the facts it needs, sends what it says and records
what it answers, in one exchange (exchange.py): room for the answer is reserved before
anything is sent, and signals are held from the request until the answer is stored.
"""

from __future__ import annotations

import contextlib

from nexla_cli.auth import renewal_plan, storedsessions
from nexla_cli.auth.exchange import Exchange, answer_not_stored, exchange
from nexla_cli.core.errors import (
    ApiRefused,
    AuthError,
    ConfigError,
    NetworkError,
    NexlaError,
    UsageError,
)
from nexla_cli.core.identities import same_key
from nexla_cli.core.model import Session, session_from_token_response
from nexla_cli.http.client import NexlaClient
from nexla_cli.storage import keys
from nexla_cli.storage.store import Environment, Identity, StoreData, StoreWriteError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nexla_cli.auth.sessiondeps import SessionDeps
    from nexla_cli.auth.storedsessions import Key
    from nexla_cli.core.model import JsonObject


def live_token(
    deps: SessionDeps,
    explicit_env: str | None = None,
    min_ttl: float = 0,
    *,
    org: str | None = None,
    user: str | None = None,
) -> str:
    """A token that is good to use now, refreshing (or re-minting) it first when due or when
    it has less than `min_ttl` seconds to live; of the identity --org/--user choose."""
    override = storedsessions.access_token_override(deps)
    if override:
        if min_ttl > 0:
            deps.notices.warn(
                f"{storedsessions.ACCESS_TOKEN_VARIABLE} is set: its remaining life is unknown, so "
                "--min-ttl is not checked (unset it to use the stored session)"
            )
        return override
    return live_session(deps, explicit_env, min_ttl, org=org, user=user)[1].access_token


def live_session(
    deps: SessionDeps,
    explicit_env: str | None = None,
    min_ttl: float = 0,
    *,
    org: str | None = None,
    user: str | None = None,
) -> tuple[str, Session]:
    """The chosen environment's name and the chosen identity's stored session, renewed
    first as live_token says."""
    data = storedsessions.load(deps)
    name = storedsessions.resolve_env_name(deps, data, explicit_env)
    who = storedsessions.choose_identity(deps, data, name, org, user)
    return name, usable_session(deps, data, name, min_ttl, who=who)


def usable_session(
    deps: SessionDeps, data: StoreData, name: str, min_ttl: float = 0, *, who: Key | None = None
) -> Session:
    """The stored session of NAME's identity `who` (None: the active one), renewed first
    (single-flight) when it is due or shorter-lived than `min_ttl` seconds."""
    stored = storedsessions.require_session(data, name, who)
    if renewal_plan.good_as_is(stored, deps.now(), storedsessions.margin_override(deps), min_ttl):
        return stored
    who = who if who is not None else data.environments[name].active.key
    renewed = renew(
        deps, name, who=who, forced=False, seen_token=stored.access_token, min_ttl=min_ttl
    )
    shown = storedsessions.identity_shown(data.environments[name], who)
    error = renewal_plan.min_ttl_error(name, renewed, deps.now(), min_ttl, shown)
    if error is not None:
        raise error
    return renewed


def refresh_now(
    deps: SessionDeps,
    explicit_env: str | None = None,
    *,
    org: str | None = None,
    user: str | None = None,
) -> tuple[str, Session]:
    """`token refresh`: renew the chosen identity's session whether due or not."""
    data = storedsessions.load(deps)
    name = storedsessions.resolve_env_name(deps, data, explicit_env)
    who = storedsessions.choose_identity(deps, data, name, org, user)
    identity = data.environments[name].find(who)
    seen = identity.session if identity is not None else None
    seen_token = seen.access_token if seen else None
    if who is None and seen is not None:
        who = data.environments[name].active.key
    return name, renew(deps, name, who=who, forced=True, seen_token=seen_token)


def renew(
    deps: SessionDeps,
    name: str,
    *,
    who: Key | None = None,
    forced: bool,
    seen_token: str | None = None,
    seen_token_refused: bool = False,
    min_ttl: float = 0,
) -> Session:
    """Refresh the session of NAME's identity `who` (None: the active one) under the lock;
    `forced` for an explicit `token refresh`.

    `seen_token` is the token the caller found due (or was refused with): if the store
    holds another by the time the lock is ours, another process renewed it meanwhile and
    its result is used instead of asking the server again. What is done is decided by
    renewal_plan (docs/sessions.md); this sends what it says, in one exchange.
    """
    outcome: list[Session | NexlaError] = []

    def if_unwritten(exc: StoreWriteError, ex: Exchange) -> NexlaError | None:
        if not ex.sent:
            return exc  # nothing was sent: the store's own error says it all
        # A session without a failure memo after a request is a new one, received and not
        # stored; anything else failed anyway, and the lost memo is secondary.
        if _new_session(outcome):
            ex.done = "after the request"
            if "refresh" not in ex.sent:
                return answer_not_stored(name, exc)
            return _old_token_killed(deps, name, who, exc, ex.data.environments.get(name))
        return None

    with exchange(deps, done="after the request", if_unwritten=if_unwritten) as ex:
        outcome.append(
            _renew_locked(
                deps,
                ex,
                name,
                who,
                forced=forced,
                seen_token=seen_token,
                seen_token_refused=seen_token_refused,
                min_ttl=min_ttl,
            )
        )
        if ex.sent and _new_session(outcome):
            ex.done = "once the new session was stored"
    result = outcome[0]
    if isinstance(result, NexlaError):
        raise result
    return result


def _new_session(outcome: list[Session | NexlaError]) -> bool:
    """Whether the renewal's outcome is a session the server just sent (one that carries no
    remembered failure)."""
    return bool(outcome) and isinstance(outcome[0], Session) and outcome[0].refresh_failure is None


def _renew_locked(
    deps: SessionDeps,
    ex: Exchange,
    name: str,
    who: Key | None,
    *,
    forced: bool,
    seen_token: str | None,
    seen_token_refused: bool,
    min_ttl: float,
) -> Session | NexlaError:
    """Decide and do the renewal with the lock held; returns the outcome to report.

    Failures are returned rather than raised so that the failure they remember (in the
    session's record) is written when the exchange ends.
    """
    identity = storedsessions.identity_of(ex.data, name, who)
    env = ex.data.environments[name]
    stored = storedsessions.require_session(ex.data, name, who)
    api_url, overridden, foreign = _api_url(deps, env, name)
    situation = renewal_plan.Situation(
        name=name,
        stored=stored,
        now=deps.now(),
        key=_key_state(identity),
        api_url_overridden=overridden,
        foreign_api_url=foreign,
        margin_override=storedsessions.margin_override(deps),
        min_ttl=min_ttl,
        forced=forced,
        seen_token=seen_token,
        seen_token_refused=seen_token_refused,
        identity=storedsessions.identity_shown(env, who),
    )
    step = renewal_plan.plan(situation)
    if isinstance(step, renewal_plan.Send):
        try:
            # Before anything is sent: the server may kill the old token the moment it
            # issues a new one, so the new one must have somewhere to go.
            ex.reserve()
        except ConfigError as exc:
            step = renewal_plan.not_sent(situation, exc.message, exc)
        else:
            step = _ask(deps, ex, identity, situation, step.request, deps.client(api_url))
            if stored.user.get("id") is None:
                _one_identity_each(ex, env, identity, name)
    return _settle(deps, step)


def _one_identity_each(ex: Exchange, env: Environment, renewed: Identity, name: str) -> None:
    """A session stored without knowing whose it was (`--no-verify`) learns it from the
    server's answer: where another identity is that user in that org, the two become one,
    the renewed session kept and a key saved for either kept (the other's item forgotten).
    Only such a session: one whose identity was known is never merged into another, whatever
    the server answers, so no identity's key is forgotten by another's renewal."""
    for other in list(env.identities()):
        if other is renewed or not same_key(other.key, renewed.key) or renewed.key is None:
            continue
        if renewed.saved_key is None:
            renewed.saved_key, other.saved_key = other.saved_key, None
        else:
            ex.forget_key(other, name)
        was_active = other is env.active
        env.forget(other)
        if was_active:
            env.activate(renewed)


def _ask(
    deps: SessionDeps,
    ex: Exchange,
    env: Identity,
    situation: renewal_plan.Situation,
    request: renewal_plan.Request,
    client: NexlaClient,
) -> renewal_plan.Step:
    """Send what the plan says, and what the verdict says next (a mint after a refused
    refresh), recording in `env` what each verdict says to record.

    A failure is remembered on a copy of the stored session: the situation the plan judges
    stays the one it was handed (what was stored before this renewal), and what this
    renewal learned reaches the plan once, as `refused_now`."""
    refused_now = False
    stored = situation.stored
    while True:
        answer = _answer(deps, ex, env, situation.name, request, client)
        verdict = renewal_plan.judge(situation, request, answer, refused_now=refused_now)
        if verdict.failure is not None:
            refused_now = refused_now or verdict.failure.get("kind") == "rejected"
            env.session = _remembering(stored, verdict.failure)
        if verdict.key_refused:
            storedsessions.mark_key_refused(env, situation.now)
        step = verdict.step
        if isinstance(step, renewal_plan.Use):
            if step.session is stored:
                # The stored session, with what this renewal remembered about it.
                kept = env.session
                assert kept is not None
                step = renewal_plan.Use(kept, step.warning)
            else:
                env.session = step.session
        if not isinstance(step, renewal_plan.Send):
            return step
        request = step.request


def _of_identity(stored: Session | None, body: JsonObject, source: str, now: float) -> Session:
    """The session in a renewal's answer, of the identity it renewed where the answer does
    not say whose it is: no user id keeps the stored user, and an `org` that is missing or
    has no id keeps the stored org (an explicit null is no org). A renewal never makes a
    session nobody's, nor moves it out of its org for want of an id."""
    session = session_from_token_response(body, source, now)
    if stored is not None and session.user.get("id") is None:
        session.user = dict(stored.user)
    org = body.get("org", {})
    if stored is not None and org is not None and (session.org or {}).get("id") is None:
        session.org = dict(stored.org) if stored.org else None
    return session


def _remembering(stored: Session, failure: JsonObject) -> Session:
    """A copy of `stored` that remembers `failure` (model.Session.refresh_failure)."""
    copy = Session.from_dict(stored.to_dict())
    copy.refresh_failure = failure
    return copy


def _answer(
    deps: SessionDeps,
    ex: Exchange,
    env: Identity,
    name: str,
    request: renewal_plan.Request,
    client: NexlaClient,
) -> renewal_plan.Answer:
    """The server's answer to `request`, as the plan knows answers."""
    try:
        if request == "mint":
            # From the file or the keyring, and only now that it is needed.
            service_key = keys.read(deps.keyring, env, name)
            ex.sending("mint")
            # The lifetime counts from the asking, not the answer: the server's clock starts
            # before the answer arrives, so a slow answer never makes a token look longer-lived.
            asked_at = deps.now()
            body = client.mint(service_key)
            return renewal_plan.Answer(
                "session", _of_identity(env.session, body, "service_key", asked_at)
            )
        stored = env.session
        assert stored is not None
        ex.sending("refresh")
        asked_at = deps.now()
        body = client.refresh(stored.access_token)
        return renewal_plan.Answer("session", _of_identity(stored, body, "refreshed", asked_at))
    except AuthError:
        return renewal_plan.Answer("refused")
    except ApiRefused as exc:
        # Only a refresh is answered so: a mint's 4xx other than 401/403 is an error.
        if request == "mint":
            raise
        return renewal_plan.Answer("not offered", message=exc.message)
    except NetworkError as exc:
        return renewal_plan.Answer("unreachable", message=exc.message)
    except keys.KeyStorageError as exc:
        # Returned, not raised, so that what this renewal learned (a refused refresh) is
        # still written.
        return renewal_plan.Answer("key unreadable", error=exc)


def _settle(deps: SessionDeps, step: renewal_plan.Step) -> Session | NexlaError:
    if isinstance(step, renewal_plan.Fail):
        return step.error
    assert isinstance(step, renewal_plan.Use)  # a Send is always answered first
    if step.warning:
        deps.notices.warn(step.warning)
    return step.session


def _key_state(env: Identity) -> renewal_plan.KeyState:
    if storedsessions.usable_saved_key(env):
        return "saved"  # whether one may be used; where it is is looked at only to mint
    return "refused" if storedsessions.key_refused(env) else "none"


def _api_url(deps: SessionDeps, env: Environment, name: str) -> tuple[str, bool, NexlaError | None]:
    """Where NAME's stored credentials may go, whether $NEXLA_API_URL overrides it, and the
    error for a variable that names another host (raised only if a request is needed)."""
    try:
        api_url, overridden = storedsessions.url_for_stored_credentials(deps, env, name)
    except UsageError as exc:
        return "", False, exc
    return api_url, overridden, None


def _old_token_killed(
    deps: SessionDeps,
    name: str,
    who: Key | None,
    exc: StoreWriteError,
    env_before: Environment | None,
) -> NexlaError:
    """A refresh was answered but the new session could not be written: the stored token
    is presumably dead. It is marked so (when even that can be written), so that it is
    never printed again as if it were valid."""
    # Best effort: an error while marking must not hide the failure being reported.
    with contextlib.suppress(NexlaError, OSError):
        with deps.store.transaction() as data:
            env = data.environments.get(name)
            identity = env.find(who) if env else None
            stale = identity.session_unless_damaged() if identity else None
            if identity is not None and stale is not None:
                stale.refresh_failure = {"at": int(deps.now()), "kind": "rejected"}
                identity.session = stale
    before = env_before.find(who) if env_before is not None else None
    from_key = before is not None and storedsessions.usable_saved_key(before)
    return ConfigError(
        f"the new session for {name} could not be stored ({exc.message}) and the old token "
        "is no longer valid: "
        + ("a new session from the saved key is needed" if from_key else "a new sign-in is needed"),
        hint="free some disk space or make the directory writable, then "
        + storedsessions.session_hint(name, env_before, before),
    )


def renew_after_rejection(
    deps: SessionDeps, name: str, rejected_token: str, who: Key | None = None
) -> Session:
    """The API answered 401 to NAME's token: refresh it, or re-mint from a saved key, once.

    An explicit renewal of the refused token: when another process has already replaced
    it, that result is used without asking the server again.
    """
    return renew(
        deps, name, who=who, forced=True, seen_token=rejected_token, seen_token_refused=True
    )
