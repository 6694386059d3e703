"""Renewing sessions: a token that is good to use now, refreshed or re-minted when due.

Renewal is single-flight across processes: it happens under the store's lock, and a
process that waited for the lock first looks at what the previous holder left behind (a
fresh token, or a failure remembered for FAILURE_MEMORY_SECONDS) before asking the server.
A renewal is a transaction: room for the answer is reserved before anything is sent, and
signals are held from the request until the answer is stored (signals.py).
"""

from __future__ import annotations

from nexla_cli import keys, storedsessions, timefmt
from nexla_cli.client import NexlaClient
from nexla_cli.errors import (
    LOGIN_HINT,
    ApiRefused,
    AuthError,
    ConfigError,
    NetworkError,
    NexlaError,
    UsageError,
)
from nexla_cli.model import FAILURE_MEMORY_SECONDS, Session, session_from_token_response
from nexla_cli.signals import SignalsHeld
from nexla_cli.store import Environment, StoreData, StoreWriteError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nexla_cli.model import JsonObject
    from nexla_cli.sessiondeps import SessionDeps


def live_token(deps: SessionDeps, explicit_env: str | None = None, min_ttl: float = 0) -> str:
    """A token that is good to use now, refreshing (or re-minting) it first when due or when
    it has less than `min_ttl` seconds to live."""
    override = storedsessions.access_token_override(deps)
    if override:
        if min_ttl > 0:
            deps.notices.warn(
                f"{storedsessions.ACCESS_TOKEN_VARIABLE} is set: its remaining life is unknown, so "
                "--min-ttl is not checked (unset it to use the stored session)"
            )
        return override
    return live_session(deps, explicit_env, min_ttl)[1].access_token


def live_session(
    deps: SessionDeps, explicit_env: str | None = None, min_ttl: float = 0
) -> tuple[str, Session]:
    """The chosen environment's name and stored session, renewed first as live_token says."""
    data = storedsessions.load(deps)
    name = storedsessions.resolve_env_name(deps, data, explicit_env)
    return name, usable_session(deps, data, name, min_ttl)


def usable_session(deps: SessionDeps, data: StoreData, name: str, min_ttl: float = 0) -> Session:
    """NAME's stored session, renewed first (single-flight) when it is due or shorter-lived
    than `min_ttl` seconds."""
    stored = storedsessions.require_session(data, name)
    if storedsessions.is_fresh(deps, stored) and stored.seconds_left(deps.now()) >= min_ttl:
        return stored
    renewed = renew(deps, name, forced=False, seen_token=stored.access_token, min_ttl=min_ttl)
    left = renewed.seconds_left(deps.now())
    if left < min_ttl and renewed.lifetime >= min_ttl:
        # Not renewed (the server could not be reached; a warning said why), and the
        # token it fell back on has too little left.
        raise NetworkError(
            f"the session for {name} could not be renewed and has "
            f"{timefmt.duration(left)} left, less than --min-ttl {min_ttl:.0f}",
            hint="try again when the server is reachable",
        )
    if left < min_ttl:
        # Renewing again would not help: the server grants shorter sessions. The renewed
        # one is stored and kept.
        raise UsageError(
            f"--min-ttl {min_ttl:.0f} is longer than the sessions {name} grants "
            f"({timefmt.duration(renewed.lifetime)}); the renewed session is kept",
            hint=f"ask for less than {timefmt.duration(renewed.lifetime)}",
        )
    return renewed


def refresh_now(deps: SessionDeps, explicit_env: str | None = None) -> tuple[str, Session]:
    """`token refresh`: renew the session of the chosen environment whether due or not."""
    data = storedsessions.load(deps)
    name = storedsessions.resolve_env_name(deps, data, explicit_env)
    seen = data.environments[name].session
    seen_token = seen.access_token if seen else None
    return name, renew(deps, name, forced=True, seen_token=seen_token)


def renew(
    deps: SessionDeps,
    name: str,
    *,
    forced: bool,
    seen_token: str | None = None,
    seen_token_refused: bool = False,
    min_ttl: float = 0,
) -> Session:
    """Refresh NAME's session under the lock; `forced` for an explicit `token refresh`.

    `seen_token` is the token the caller found due (or was refused with): if the store
    holds another by the time the lock is ours, another process renewed it meanwhile and
    its result is used instead of asking the server again.

    Unforced, a still-valid token is kept (with a warning) when the server cannot be
    reached. Forced, that is an error, since the refresh asked for did not happen; so it is
    when the token has less than `min_ttl` seconds left.

    A renewal is a transaction: room for the answer is reserved before anything is sent,
    and signals are held from the request until the answer is stored (see SignalsHeld).
    """
    store = deps.store
    held = SignalsHeld()
    outcome: Session | NexlaError | None = None
    try:
        try:
            with store.transaction() as data:
                outcome = _renew_locked(
                    deps,
                    data,
                    name,
                    held,
                    forced=forced,
                    seen_token=seen_token,
                    refused_token=seen_token if seen_token_refused else None,
                    min_ttl=min_ttl,
                )
        except StoreWriteError as exc:
            if not held.sent:
                raise
            # A session without a failure memo after a request is a new one, received
            # and not stored; anything else failed anyway, and the lost memo is secondary.
            if isinstance(outcome, Session) and outcome.refresh_failure is None:
                outcome = _answer_not_stored(
                    deps, name, exc, old_token_killed="refresh" in held.sent
                )
    finally:
        stored_new = isinstance(outcome, Session) and outcome.refresh_failure is None
        held.release("once the new session was stored" if stored_new else "after the request")
    if isinstance(outcome, NexlaError):
        raise outcome
    assert outcome is not None  # _renew_locked returns or raises
    return outcome


def _renew_locked(
    deps: SessionDeps,
    data: StoreData,
    name: str,
    held: SignalsHeld,
    *,
    forced: bool,
    seen_token: str | None,
    refused_token: str | None = None,
    min_ttl: float = 0,
) -> Session | NexlaError:
    """Decide and do the renewal with the lock held; returns the outcome to report.

    Failures are returned rather than raised so that what they record in `data` (the
    remembered failure) is written when the transaction ends.
    """
    env = data.environments.get(name)
    if env is None:
        raise ConfigError(f"unknown environment: {name}", hint="see `nexla env list`")
    stored = storedsessions.require_session(data, name)
    now = deps.now()
    expired = storedsessions.expired(stored, now)
    # Another process renewed it (or signed in again) while we waited for the lock.
    # Compared by token, not by time: a clock second holds several commands.
    # A session shorter-lived than min_ttl is not renewed twice: the caller reports it.
    if (
        seen_token is not None
        and stored.access_token != seen_token
        and not stored.rejected
        and not expired
        and (stored.seconds_left(now) >= min_ttl or stored.lifetime < min_ttl)
    ):
        return stored
    long_enough = stored.seconds_left(now) >= min_ttl
    if not forced and stored.is_fresh(now, storedsessions.margin_override(deps)) and long_enough:
        return stored
    # A valid token without min_ttl left cannot stand in for a renewal that failed (an
    # expired one never can, and says so in its own words).
    forced = forced or (not long_enough and not expired)

    api_url, overridden = storedsessions.url_for_stored_credentials(deps, env, name)
    has_key = storedsessions.usable_saved_key(env)  # whether one may be used; read only to mint
    if stored.rejected and not has_key:
        return _dead_session_error(name, key_refused=storedsessions.key_refused(env))
    if overridden:
        # Nothing learned through the variable is stored, and a refresh would kill the
        # stored token: the stored session is not renewed through it.
        return _not_renewed_outcome(
            deps,
            name,
            stored,
            "NEXLA_API_URL is set (a session renewed through it would not be stored)",
            forced=forced,
            refused_token=refused_token,
            error=UsageError(
                f"the session for {name} cannot be renewed while NEXLA_API_URL is set: "
                "nothing learned through it is stored",
                hint="unset NEXLA_API_URL to renew the stored session",
            ),
        )
    remembered = stored.recent_failure(now)
    if remembered:
        return _unreachable_outcome(
            deps,
            name,
            stored,
            remembered.get("message", "the server could not be reached"),
            forced=forced,
            remembered_at=float(remembered.get("at", now)),
            refused_token=refused_token,
        )
    if stored.refresh_not_offered and not has_key:
        return _not_offered_outcome(
            deps, name, stored, stored.refresh_failure, forced=forced, refused_token=refused_token
        )

    try:
        # Before anything is sent: the server may kill the old token the moment it
        # issues a new one, so the new one must have somewhere to go.
        deps.store.reserve()
    except ConfigError as exc:
        return _not_renewed_outcome(
            deps, name, stored, exc.message, forced=forced, refused_token=refused_token, error=exc
        )

    client = deps.client(api_url)
    try:
        if has_key and (expired or stored.rejected or stored.refresh_not_offered):
            renewed = _mint(deps, client, env, name, held)
        else:
            try:
                held.hold("refresh")
                renewed = session_from_token_response(
                    client.refresh(stored.access_token), "refreshed", deps.now()
                )
            except AuthError:
                stored.refresh_failure = {"at": int(now), "kind": "rejected"}
                env.session = stored
                if not has_key:
                    return _dead_session_error(name, key_refused=storedsessions.key_refused(env))
                renewed = _mint(deps, client, env, name, held)
            except ApiRefused as exc:
                # This server has no refresh: not an outage, and asking again won't help.
                stored.refresh_failure = {
                    "at": int(now),
                    "kind": "not_offered",
                    "message": exc.message,
                }
                env.session = stored
                if not has_key:
                    return _not_offered_outcome(
                        deps,
                        name,
                        stored,
                        stored.refresh_failure,
                        forced=forced,
                        refused_token=refused_token,
                    )
                renewed = _mint(deps, client, env, name, held)
    except NetworkError as exc:
        if stored.rejected:
            # The refresh was refused and the key could not be tried: the mark stays.
            return NetworkError(
                f"the session for {name} was refused and a new one could not be minted: "
                f"{exc.message}",
                hint="try again when the server is reachable",
            )
        stored.refresh_failure = {"at": int(now), "kind": "unreachable", "message": exc.message}
        env.session = stored
        return _unreachable_outcome(
            deps, name, stored, exc.message, forced=forced, refused_token=refused_token
        )
    except keys.KeyStorageError as exc:
        # The key's keyring could not be read: returned, not raised, so that what this
        # renewal learned (a refused refresh) is still written.
        return exc
    except AuthError:
        # Only the saved service key can be refused here. Remembered, so that it is not
        # sent again until a key is saved anew or someone signs in.
        storedsessions.mark_key_refused(env, now)
        if expired and not stored.rejected:
            stored.refresh_failure = {"at": int(now), "kind": "rejected"}
        env.session = stored
        return _key_refused_error(name)
    env.session = renewed
    return renewed


def _mint(
    deps: SessionDeps, client: NexlaClient, env: Environment, name: str, held: SignalsHeld
) -> Session:
    service_key = keys.read(deps.keyring, env, name)  # from the file or the OS keyring, only now
    held.hold("mint")
    return session_from_token_response(client.mint(service_key), "service_key", deps.now())


def _dead_session_error(name: str, *, key_refused: bool = False) -> AuthError:
    if key_refused:
        return AuthError(
            f"the session for {name} has expired or was revoked, and its saved service key "
            "was rejected earlier (it is not sent again)",
            hint=f"{LOGIN_HINT} (`nexla env login --env {name}`), or save a valid key with "
            f"`nexla token from-key --env {name} --save-key`",
        )
    return AuthError(
        f"the session for {name} has expired or was revoked (the server refused to refresh it)",
        hint=f"{LOGIN_HINT} (`nexla env login --env {name}`)",
    )


def _key_refused_error(name: str) -> AuthError:
    return AuthError(
        f"the saved service key for {name} was rejected; it will not be sent again",
        hint=f"save a valid key with `nexla token from-key --env {name} --save-key`, "
        f"or `nexla env login --env {name}`",
    )


def _still_usable(
    deps: SessionDeps, stored: Session, forced: bool, refused_token: str | None
) -> bool:
    """Whether an unrenewed session may still be handed out (with a warning)."""
    return (
        not forced
        and not stored.rejected
        and not storedsessions.expired(stored, deps.now())
        and stored.access_token != refused_token
    )


def _not_renewed_outcome(
    deps: SessionDeps,
    name: str,
    stored: Session,
    reason: str,
    *,
    forced: bool,
    refused_token: str | None,
    error: NexlaError,
) -> Session | NexlaError:
    """Nothing was sent: a due but valid token is used with a warning, else `error`."""
    if not _still_usable(deps, stored, forced, refused_token):
        return error
    deps.notices.warn(
        f"did not refresh the session for {name} ({reason}); using the current token, "
        f"valid until {timefmt.iso_utc(stored.expires_at)}"
    )
    return stored


def _not_offered_outcome(
    deps: SessionDeps,
    name: str,
    stored: Session,
    failure: JsonObject | None,
    *,
    forced: bool,
    refused_token: str | None,
) -> Session | NexlaError:
    """The server has no refresh and no key is saved: a sign-in is the only way on."""
    detail = (failure or {}).get("message") or "it answered the refresh with an error"
    hint = (
        f"{LOGIN_HINT} (`nexla env login --env {name}`), or save a service key with "
        f"`nexla token from-key --env {name} --save-key` to renew without signing in"
    )
    if not _still_usable(deps, stored, forced, refused_token):
        return AuthError(
            f"{name} does not refresh sessions ({detail}), so the session cannot be renewed",
            hint=hint,
        )
    deps.notices.warn(
        f"{name} does not refresh sessions ({detail}); using the current token, valid until "
        f"{timefmt.iso_utc(stored.expires_at)}: sign in again before then"
    )
    return stored


def _answer_not_stored(
    deps: SessionDeps, name: str, exc: StoreWriteError, *, old_token_killed: bool
) -> NexlaError:
    """The server answered but the new session could not be written.

    After a refresh the stored token is presumably dead: it is marked so (when even that
    can be written), so that it is never printed again as if it were valid.
    """
    if not old_token_killed:
        return ConfigError(
            f"the new session for {name} could not be stored ({exc.message}); "
            "the stored one was left as it was",
            hint="free some disk space or make the directory writable, then try again",
        )
    import contextlib

    # Best effort: an error while marking must not hide the failure being reported.
    with contextlib.suppress(NexlaError, OSError):
        with deps.store.transaction() as data:
            env = data.environments.get(name)
            stale = env.session_unless_damaged() if env else None
            if env is not None and stale is not None:
                stale.refresh_failure = {"at": int(deps.now()), "kind": "rejected"}
                env.session = stale
    return ConfigError(
        f"the new session for {name} could not be stored ({exc.message}) and the old token "
        "is no longer valid: a new sign-in is needed",
        hint=f"free some disk space or make the directory writable, then "
        f"`nexla env login --env {name}`",
    )


def _unreachable_outcome(
    deps: SessionDeps,
    name: str,
    stored: Session,
    reason: str,
    *,
    forced: bool,
    remembered_at: float | None = None,
    refused_token: str | None = None,
) -> Session | NexlaError:
    when = ""
    if remembered_at is not None:
        ago = max(int(deps.now() - remembered_at), 0)
        when = (
            f" {timefmt.duration(ago)} ago; not retried for "
            f"{timefmt.duration(FAILURE_MEMORY_SECONDS)}"
        )
    expired = storedsessions.expired(stored, deps.now())
    if forced:
        # After the API refused the token, it is no longer known to be valid.
        still = (
            ""
            if expired or stored.access_token == refused_token
            else "; the current token stays valid until " + timefmt.iso_utc(stored.expires_at)
        )
        return NetworkError(f"the session for {name} could not be renewed: {reason}{when}{still}")
    if expired:
        return NetworkError(
            f"the session for {name} has expired and could not be renewed: {reason}{when}",
            hint="try again when the server is reachable",
        )
    deps.notices.warn(
        f"could not refresh the session for {name} ({reason}{when}); using the current token, "
        f"valid until {timefmt.iso_utc(stored.expires_at)}"
    )
    return stored


def renew_after_rejection(deps: SessionDeps, name: str, rejected_token: str) -> Session:
    """The API answered 401 to NAME's token: refresh it, or re-mint from a saved key, once.

    An explicit renewal of the refused token: when another process has already replaced
    it, that result is used without asking the server again.
    """
    return renew(deps, name, forced=True, seen_token=rejected_token, seen_token_refused=True)
