"""Session logic: signing in, renewing when due, minting from service keys, logging out.

Commands call these functions; these call the store and the HTTP client, never back.
Renewal is single-flight across processes: it happens under the store's lock, and a
process that waited for the lock first looks at what the previous holder left behind (a
fresh token, or a failure remembered for FAILURE_MEMORY_SECONDS) before asking the server.
"""

import signal
import time
from typing import List, Optional, Tuple, Union
from urllib.parse import urlsplit

from nexla_cli import keys, names, output, settings, timefmt
from nexla_cli.client import NexlaClient
from nexla_cli.errors import (
    LOGIN_HINT,
    ApiRefused,
    AuthError,
    ConfigError,
    Interrupted,
    NetworkError,
    NexlaError,
    UsageError,
)
from nexla_cli.model import (
    FAILURE_MEMORY_SECONDS,
    Session,
    org_summary,
    pasted_token_expiry,
    session_from_token_response,
    user_summary,
)
from nexla_cli.store import CorruptStore, CredentialStore, StoreWriteError

ACCESS_TOKEN_VARIABLE = "NEXLA_ACCESS_TOKEN"


# Choosing the environment -----------------------------------------------------------------


def chosen_env(data: dict, explicit: Optional[str]) -> Optional[str]:
    """--env, else $NEXLA_ENV, else the current environment, as given; None if none is."""
    return explicit or settings.env_name() or data.get("current")


def resolve_env_name(data: dict, explicit: Optional[str], *, must_exist: bool = True) -> str:
    """--env, else $NEXLA_ENV, else the current environment; normalised."""
    raw = chosen_env(data, explicit)
    if not raw:
        if data["environments"]:
            raise ConfigError(
                "no environment is current",
                hint="run `nexla env use NAME` (see `nexla env list`) or pass --env NAME",
            )
        raise ConfigError("no environment is configured", hint="run `nexla env configure`")
    name = names.normalize_env_name(raw)
    if must_exist and name not in data["environments"]:
        raise ConfigError(
            f"unknown environment: {name}",
            hint="see `nexla env list`, or add it with `nexla env configure`",
        )
    return name


def api_url_for(env: Optional[dict], name: str) -> str:
    """$NEXLA_API_URL (never saved), else the stored URL, else https://NAME/nexla-api."""
    override = settings.raw("NEXLA_API_URL")
    if override:
        return names.normalize_api_url(override)
    if env and env.get("api_url"):
        return env["api_url"]
    return names.default_api_url(name)


def url_for_stored_credentials(env: dict, name: str) -> Tuple[str, bool]:
    """Where NAME's stored token or saved key may be sent, and whether $NEXLA_API_URL
    overrides the stored URL for this run.

    The variable changes one run only and is trusted with stored credentials only when it
    names the environment's own API host: anything else is a UsageError naming both hosts,
    raised before anything is sent.
    """
    own = env.get("api_url") or names.default_api_url(name)
    raw = settings.raw("NEXLA_API_URL")
    if not raw:
        return own, False
    url = names.normalize_api_url(raw)
    if url == own:
        return own, False
    if _host_of(url) != _host_of(own):
        raise UsageError(
            f"NEXLA_API_URL points at {_host_of(url)}, but {name} keeps its token and key "
            f"for {_host_of(own)}; they are never sent to another host, so nothing was sent",
            hint="unset NEXLA_API_URL, or set NEXLA_ACCESS_TOKEN to a token for that host",
        )
    return url, True


def _host_of(url: str) -> str:
    return urlsplit(url).netloc.lower()


def stored_session(env: dict, store_path) -> Optional[Session]:
    raw = env.get("session")
    if raw is None:
        return None
    try:
        return Session.from_dict(raw)
    except ValueError as exc:
        raise CorruptStore(store_path, str(exc)) from None


def access_token_override() -> Optional[str]:
    return settings.access_token()  # checked: printable ASCII without spaces


def warn_if_access_token_override() -> None:
    """Commands that manage the store say that the variable will win elsewhere."""
    if access_token_override():
        output.warn(
            f"{ACCESS_TOKEN_VARIABLE} is set: it wins over the stored session for "
            "`token print`, `token status`, `env show --check` and `api`"
        )


_reported_notices: set = set()


def report_notices(store: CredentialStore) -> None:
    """Print the store's notices, each once per process however often the store is read."""
    for notice in store.notices:
        if notice not in _reported_notices:
            _reported_notices.add(notice)
            output.warn(notice)
    store.notices.clear()


def load(store: CredentialStore) -> dict:
    try:
        return store.load()
    finally:
        report_notices(store)


def load_or_set_aside(store: CredentialStore) -> dict:
    """The stored data; for commands that start over or forget, a file that cannot be parsed
    is moved aside first (kept 0600, named in a warning) and an empty store takes its place."""
    try:
        return load(store)
    except CorruptStore:
        try:
            with store.transaction(recover_corrupt=True) as data:
                pass
        finally:
            report_notices(store)
        return data


# Signing in with a pasted token ------------------------------------------------------------


def sign_in_with_token(
    name: str,
    token: str,
    *,
    api_url: Optional[str],
    verify: bool,
    make_current: bool,
    store: Optional[CredentialStore] = None,
) -> Tuple[Session, bool]:
    """Validate a pasted token (one GET /users/current) and store it as NAME's session.

    Returns the session and whether a saved service key was dropped.
    """
    store = store or CredentialStore()
    existing = _peek_env(store, name)
    if not api_url:
        # The token is checked where it will be used: NAME's own API.
        _refuse_override_for_storing(name, existing, "checked")
    call_url = api_url or api_url_for(existing, name)
    user, org = {}, None
    if verify:
        try:
            who = NexlaClient(call_url).current_user(token)
        except AuthError:
            raise AuthError(
                f"the token was rejected by {name}; nothing was saved",
                hint=f"copy a fresh token from {names.token_page_url(name)}",
            ) from None
        except NetworkError as exc:
            raise NetworkError(
                f"could not check the token with {name}: {exc.message}; nothing was saved",
                exc.hint,
            ) from None
        user, org = user_summary(who["user"]), org_summary(who["org"])
    now = int(time.time())
    # A JWT states its expiry; any other token's lifetime is estimated.
    expires_at, estimated = pasted_token_expiry(token, now)
    session = Session(
        access_token=token,
        obtained_at=now,
        expires_at=expires_at,
        expires_estimated=estimated,
        source="pasted",
        user=user,
        org=org,
    )
    try:
        with store.transaction(recover_corrupt=True) as data:
            # Re-read under the lock: another command may have changed NAME meanwhile, and
            # only the session (and --api-url when given) is this command's to change.
            env = data["environments"].get(name)
            if env is None:
                if existing is not None and not make_current:
                    raise ConfigError(
                        f"{name} was removed while signing in; nothing was saved",
                        hint=f"`nexla env configure {name}` adds it again",
                    )
                env = data["environments"][name] = {
                    "api_url": api_url or names.default_api_url(name)
                }
            elif api_url:
                env["api_url"] = api_url
            # A key minted for one identity must never re-mint after another signed in.
            dropped_key, keyring_item = _forget_key(env)
            env["session"] = session.to_dict()
            if make_current:
                data["current"] = name
    finally:
        report_notices(store)
    _forget_keyring_item(keyring_item, name)  # the file forgot it first
    return session, dropped_key


def _peek_env(store: CredentialStore, name: str) -> Optional[dict]:
    """The stored environment, if readable; a corrupt store is dealt with when writing."""
    try:
        return load(store)["environments"].get(name)
    except CorruptStore:
        return None


# Live tokens and renewal ---------------------------------------------------------------


def live_token(explicit_env: Optional[str] = None, min_ttl: float = 0) -> str:
    """A token that is good to use now, refreshing (or re-minting) it first when due or when
    it has less than `min_ttl` seconds to live."""
    override = access_token_override()
    if override:
        if min_ttl > 0:
            output.warn(
                f"{ACCESS_TOKEN_VARIABLE} is set: its remaining life is unknown, so --min-ttl "
                "is not checked (unset it to use the stored session)"
            )
        return override
    return live_session(explicit_env, min_ttl)[1].access_token


def live_session(explicit_env: Optional[str] = None, min_ttl: float = 0) -> Tuple[str, Session]:
    """The chosen environment's name and stored session, renewed first as live_token says."""
    store = CredentialStore()
    data = load(store)
    name = resolve_env_name(data, explicit_env)
    return name, _usable_session(data, name, store, min_ttl)


def _usable_token(data: dict, name: str, store: CredentialStore) -> str:
    return _usable_session(data, name, store).access_token


def _usable_session(data: dict, name: str, store: CredentialStore, min_ttl: float = 0) -> Session:
    """NAME's stored session, renewed first (single-flight) when it is due or shorter-lived
    than `min_ttl` seconds."""
    session = _require_session(data, name, store)
    if session.is_fresh() and session.seconds_left() >= min_ttl:
        return session
    renewed = renew(
        name, store=store, forced=False, seen_token=session.access_token, min_ttl=min_ttl
    )
    if renewed.seconds_left() < min_ttl and renewed.lifetime >= min_ttl:
        # Not renewed (the server could not be reached; a warning said why), and the
        # token it fell back on has too little left.
        raise NetworkError(
            f"the session for {name} could not be renewed and has "
            f"{timefmt.duration(renewed.seconds_left())} left, less than --min-ttl {min_ttl:.0f}",
            hint="try again when the server is reachable",
        )
    if renewed.seconds_left() < min_ttl:
        # Renewing again would not help: the server grants shorter sessions. The renewed
        # one is stored and kept.
        raise UsageError(
            f"--min-ttl {min_ttl:.0f} is longer than the sessions {name} grants "
            f"({timefmt.duration(renewed.lifetime)}); the renewed session is kept",
            hint=f"ask for less than {timefmt.duration(renewed.lifetime)}",
        )
    return renewed


def refresh_now(explicit_env: Optional[str] = None) -> Tuple[str, Session]:
    """`token refresh`: renew the session of the chosen environment whether due or not."""
    store = CredentialStore()
    data = load(store)
    name = resolve_env_name(data, explicit_env)
    seen = stored_session(data["environments"][name], store.path)
    seen_token = seen.access_token if seen else None
    return name, renew(name, store=store, forced=True, seen_token=seen_token)


def renew(
    name: str,
    *,
    store: Optional[CredentialStore] = None,
    forced: bool,
    seen_token: Optional[str] = None,
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
    store = store or CredentialStore()
    held = SignalsHeld()
    outcome: Union[Session, NexlaError, None] = None
    try:
        try:
            with store.transaction() as data:
                outcome = _renew_locked(
                    data,
                    name,
                    store,
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
                    store, name, exc, old_token_killed="refresh" in held.sent
                )
    finally:
        report_notices(store)
        stored_new = isinstance(outcome, Session) and outcome.refresh_failure is None
        held.release("once the new session was stored" if stored_new else "after the request")
    if isinstance(outcome, NexlaError):
        raise outcome
    return outcome


def _renew_locked(
    data: dict,
    name: str,
    store: CredentialStore,
    held: "SignalsHeld",
    *,
    forced: bool,
    seen_token: Optional[str],
    refused_token: Optional[str] = None,
    min_ttl: float = 0,
) -> Union[Session, NexlaError]:
    """Decide and do the renewal with the lock held; returns the outcome to report.

    Failures are returned rather than raised so that what they record in `data` (the
    remembered failure) is written when the transaction ends.
    """
    if name not in data["environments"]:
        raise ConfigError(f"unknown environment: {name}", hint="see `nexla env list`")
    env = data["environments"][name]
    session = _require_session(data, name, store)
    now = time.time()
    expired = _expired(session, now)
    # Another process renewed it (or signed in again) while we waited for the lock.
    # Compared by token, not by time: a clock second holds several commands.
    # A session shorter-lived than min_ttl is not renewed twice: the caller reports it.
    if (
        seen_token is not None
        and session.access_token != seen_token
        and not session.rejected
        and not expired
        and (session.seconds_left(now) >= min_ttl or session.lifetime < min_ttl)
    ):
        return session
    long_enough = session.seconds_left(now) >= min_ttl
    if not forced and session.is_fresh(now) and long_enough:
        return session
    # A valid token without min_ttl left cannot stand in for a renewal that failed (an
    # expired one never can, and says so in its own words).
    forced = forced or (not long_enough and not expired)

    api_url, overridden = url_for_stored_credentials(env, name)
    has_key = _usable_saved_key(env)  # whether one may be used; read only to mint
    if session.rejected and not has_key:
        return _dead_session_error(name, key_refused=_key_refused(env))
    if overridden:
        # Nothing learned through the variable is stored, and a refresh would kill the
        # stored token: the stored session is not renewed through it.
        return _not_renewed_outcome(
            name,
            session,
            "NEXLA_API_URL is set (a session renewed through it would not be stored)",
            forced=forced,
            refused_token=refused_token,
            error=UsageError(
                f"the session for {name} cannot be renewed while NEXLA_API_URL is set: "
                "nothing learned through it is stored",
                hint="unset NEXLA_API_URL to renew the stored session",
            ),
        )
    remembered = session.recent_failure(now)
    if remembered:
        return _unreachable_outcome(
            name,
            session,
            remembered.get("message", "the server could not be reached"),
            forced=forced,
            remembered_at=float(remembered.get("at", now)),
            refused_token=refused_token,
        )
    if session.refresh_not_offered and not has_key:
        return _not_offered_outcome(
            name, session, session.refresh_failure, forced=forced, refused_token=refused_token
        )

    try:
        # Before anything is sent: the server may kill the old token the moment it
        # issues a new one, so the new one must have somewhere to go.
        store.reserve()
    except ConfigError as exc:
        return _not_renewed_outcome(
            name, session, exc.message, forced=forced, refused_token=refused_token, error=exc
        )

    client = NexlaClient(api_url)
    try:
        if has_key and (expired or session.rejected or session.refresh_not_offered):
            renewed = _mint(client, env, name, held)
        else:
            try:
                held.hold("refresh")
                renewed = session_from_token_response(
                    client.refresh(session.access_token), "refreshed"
                )
            except AuthError:
                session.refresh_failure = {"at": int(now), "kind": "rejected"}
                env["session"] = session.to_dict()
                if not has_key:
                    return _dead_session_error(name, key_refused=_key_refused(env))
                renewed = _mint(client, env, name, held)
            except ApiRefused as exc:
                # This server has no refresh: not an outage, and asking again won't help.
                session.refresh_failure = {
                    "at": int(now),
                    "kind": "not_offered",
                    "message": exc.message,
                }
                env["session"] = session.to_dict()
                if not has_key:
                    return _not_offered_outcome(
                        name,
                        session,
                        session.refresh_failure,
                        forced=forced,
                        refused_token=refused_token,
                    )
                renewed = _mint(client, env, name, held)
    except NetworkError as exc:
        if session.rejected:
            # The refresh was refused and the key could not be tried: the mark stays.
            return NetworkError(
                f"the session for {name} was refused and a new one could not be minted: "
                f"{exc.message}",
                hint="try again when the server is reachable",
            )
        session.refresh_failure = {"at": int(now), "kind": "unreachable", "message": exc.message}
        env["session"] = session.to_dict()
        return _unreachable_outcome(
            name, session, exc.message, forced=forced, refused_token=refused_token
        )
    except keys.KeyStorageError as exc:
        # The key's keyring could not be read: returned, not raised, so that what this
        # renewal learned (a refused refresh) is still written.
        return exc
    except AuthError:
        # Only the saved service key can be refused here. Remembered, so that it is not
        # sent again until a key is saved anew or someone signs in.
        _mark_key_refused(env, now)
        if expired and not session.rejected:
            session.refresh_failure = {"at": int(now), "kind": "rejected"}
        env["session"] = session.to_dict()
        return _key_refused_error(name)
    env["session"] = renewed.to_dict()
    return renewed


def _mint(client: NexlaClient, env: dict, name: str, held: "SignalsHeld") -> Session:
    service_key = keys.read(env, name)  # from the file or the OS keyring, only now
    held.hold("mint")
    return session_from_token_response(client.mint(service_key), "service_key")


def _expired(session: Session, now: float) -> bool:
    """Expired, or of unknown age because the clock moved: either way not to be trusted."""
    return session.is_expired(now) or session.clock_moved(now)


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


def _still_usable(session: Session, forced: bool, refused_token: Optional[str]) -> bool:
    """Whether an unrenewed session may still be handed out (with a warning)."""
    return (
        not forced
        and not session.rejected
        and not _expired(session, time.time())
        and session.access_token != refused_token
    )


def _not_renewed_outcome(
    name: str,
    session: Session,
    reason: str,
    *,
    forced: bool,
    refused_token: Optional[str],
    error: NexlaError,
) -> Union[Session, NexlaError]:
    """Nothing was sent: a due but valid token is used with a warning, else `error`."""
    if not _still_usable(session, forced, refused_token):
        return error
    output.warn(
        f"did not refresh the session for {name} ({reason}); using the current token, "
        f"valid until {_clock(session.expires_at)}"
    )
    return session


def _not_offered_outcome(
    name: str,
    session: Session,
    failure: Optional[dict],
    *,
    forced: bool,
    refused_token: Optional[str],
) -> Union[Session, NexlaError]:
    """The server has no refresh and no key is saved: a sign-in is the only way on."""
    detail = (failure or {}).get("message") or "it answered the refresh with an error"
    hint = (
        f"{LOGIN_HINT} (`nexla env login --env {name}`), or save a service key with "
        f"`nexla token from-key --env {name} --save-key` to renew without signing in"
    )
    if not _still_usable(session, forced, refused_token):
        return AuthError(
            f"{name} does not refresh sessions ({detail}), so the session cannot be renewed",
            hint=hint,
        )
    output.warn(
        f"{name} does not refresh sessions ({detail}); using the current token, valid until "
        f"{_clock(session.expires_at)}: sign in again before then"
    )
    return session


def _answer_not_stored(
    store: CredentialStore, name: str, exc: StoreWriteError, *, old_token_killed: bool
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
        with store.transaction() as data:
            env = data["environments"].get(name)
            stale = _session_or_none(env) if env else None
            if stale is not None:
                stale.refresh_failure = {"at": int(time.time()), "kind": "rejected"}
                env["session"] = stale.to_dict()
    return ConfigError(
        f"the new session for {name} could not be stored ({exc.message}) and the old token "
        "is no longer valid: a new sign-in is needed",
        hint=f"free some disk space or make the directory writable, then "
        f"`nexla env login --env {name}`",
    )


def _unreachable_outcome(
    name: str,
    session: Session,
    reason: str,
    *,
    forced: bool,
    remembered_at: Optional[float] = None,
    refused_token: Optional[str] = None,
) -> Union[Session, NexlaError]:
    when = ""
    if remembered_at is not None:
        ago = max(int(time.time() - remembered_at), 0)
        when = (
            f" {timefmt.duration(ago)} ago; not retried for "
            f"{timefmt.duration(FAILURE_MEMORY_SECONDS)}"
        )
    expired = _expired(session, time.time())
    if forced:
        # After the API refused the token, it is no longer known to be valid.
        still = (
            ""
            if expired or session.access_token == refused_token
            else "; the current token stays valid until " + _clock(session.expires_at)
        )
        return NetworkError(f"the session for {name} could not be renewed: {reason}{when}{still}")
    if expired:
        return NetworkError(
            f"the session for {name} has expired and could not be renewed: {reason}{when}",
            hint="try again when the server is reachable",
        )
    output.warn(
        f"could not refresh the session for {name} ({reason}{when}); using the current token, "
        f"valid until {_clock(session.expires_at)}"
    )
    return session


def _require_session(data: dict, name: str, store: CredentialStore) -> Session:
    session = stored_session(data["environments"][name], store.path)
    if session is None:
        raise AuthError(
            f"not signed in to {name}",
            hint=f"run `nexla env login --env {name}` or `nexla token from-key --env {name}`",
        )
    return session


# Holding signals while a new session is in flight ---------------------------------------

_HELD_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


class SignalsHeld:
    """SIGINT, SIGTERM and SIGHUP noted rather than acted on, from the moment a request
    that changes the server's state is sent until its answer is stored.

    The server may kill the old token the moment it issues a new one: a job killed by
    cron's `timeout` in between would otherwise lose the session. release() restores the
    handlers and acts on the first signal noted: Interrupted, exit 128 + its number.
    """

    def __init__(self) -> None:
        self.sent: set = set()  # what was sent: "refresh", "mint", "logout"
        self._received: Optional[int] = None
        self._previous: dict = {}

    def hold(self, what: str) -> None:
        """Call just before sending `what`."""
        self.sent.add(what)
        if self._previous:
            return
        for signal_name in _HELD_SIGNALS:
            signum = getattr(signal, signal_name, None)
            if signum is None:
                continue  # SIGHUP does not exist on Windows
            try:
                previous = signal.getsignal(signum)
                signal.signal(signum, self._note)
            except (ValueError, OSError):  # not the main thread: nothing to hold
                continue
            self._previous[signum] = signal.SIG_DFL if previous is None else previous

    def _note(self, signum, frame) -> None:
        if self._received is None:
            self._received = signum

    def release(self, done: str) -> None:
        previous, self._previous = self._previous, {}
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        received, self._received = self._received, None
        if received is not None:
            raise Interrupted(received, signal.Signals(received).name, done)


# Saved service keys ------------------------------------------------------------------------
# Kept in small functions: where a key lives may change, and these are the only places
# that know.

KEY_REFUSED_FIELD = "service_key_rejected_at"


def _key_refused(env: dict) -> bool:
    return bool(env.get(KEY_REFUSED_FIELD)) and keys.is_saved(env)


def _usable_saved_key(env: dict) -> bool:
    """Whether a key is saved that the server has not refused (a refused one is not sent
    again). Where it is (file or OS keyring) is looked at only to mint."""
    return keys.is_saved(env) and not _key_refused(env)


def _mark_key_refused(env: dict, now: float) -> None:
    env[KEY_REFUSED_FIELD] = int(now)


def _forget_key(env: dict) -> Tuple[bool, Optional[dict]]:
    """Drop the saved key (and what was remembered about it) from the record: (was one
    saved, its keyring item, for _forget_keyring_item once the file is written)."""
    env.pop(KEY_REFUSED_FIELD, None)
    return keys.drop(env)


def _forget_keyring_item(item: Optional[dict], name: str) -> None:
    """After the file stopped naming it: delete a saved key's keyring item (a warning if
    that fails; the local change stands)."""
    warning = keys.forget(item, name)
    if warning:
        output.warn(warning)


def key_storage_plan(name: str) -> keys.SavePlan:
    """Where `token from-key --save-key` will keep NAME's key; exit 3 (nothing sent) when it
    cannot be kept as $NEXLA_KEY_STORAGE asks."""
    return keys.plan_save(name, CredentialStore().path)


def _clock(epoch: float) -> str:
    return timefmt.iso_utc(epoch)


# Service keys -------------------------------------------------------------------------


def mint_from_key(
    explicit_env: Optional[str],
    service_key: str,
    *,
    save_key: bool,
    key_storage: Optional[keys.SavePlan] = None,
) -> Tuple[str, Session, List[str]]:
    """POST /token with the key and store the session; returns (env name, session, notes).

    An environment named with --env or $NEXLA_ENV that is not configured is added; it
    becomes current only when none is. The request is made under the lock, with room for
    the answer reserved first, so the session minted is the one stored. With save_key,
    where the key goes (`key_storage`, from key_storage_plan) is settled before anything
    is sent.
    """
    store = CredentialStore()
    name, data = _key_target(explicit_env, store)
    if save_key and (key_storage is None or key_storage.name != name):
        key_storage = keys.plan_save(name, store.path)
    keyring_item = None
    named = bool(explicit_env or settings.env_name())
    existed = name in data["environments"]
    notes: List[str] = []
    held = SignalsHeld()
    fresh_machine = not store.path.parent.exists()
    try:
        with store.transaction(recover_corrupt=True) as data:
            env = data["environments"].get(name)
            if env is None and existed and not named:
                # It was the current environment, and another command removed it since.
                raise ConfigError(
                    f"{name} was removed meanwhile; nothing was sent",
                    hint=f"`nexla token from-key --env {name}` adds it again",
                )
            api_url = (env or {}).get("api_url") or names.default_api_url(name)
            store.reserve()
            held.hold("mint")
            try:
                body = NexlaClient(api_url).mint(service_key)
            except AuthError:
                raise AuthError(
                    f"the service key was rejected by {name}; nothing was changed"
                ) from None
            session = session_from_token_response(body, "service_key")
            if env is None:
                env = data["environments"][name] = {"api_url": api_url}
                notes.append(f"added environment {name}")
            if not data.get("current"):
                data["current"] = name
            env["session"] = session.to_dict()
            if save_key:
                # Into the keyring before the file names it (keys.save).
                keyring_item, warning = keys.save(key_storage, env, service_key)
                if warning:
                    output.warn(warning)
                env.pop(KEY_REFUSED_FIELD, None)
            elif keys.is_saved(env) and not keys.holds(env, name, service_key):
                # A key saved for another identity must not re-mint this one's sessions.
                keyring_item = _forget_key(env)[1]
                notes.append(f"dropped the service key saved earlier for {name}")
            else:
                env.pop(KEY_REFUSED_FIELD, None)  # a fresh sign-in by key
    except StoreWriteError as exc:
        raise ConfigError(
            f"the new session for {name} could not be stored ({exc.message}); "
            "the stored one was left as it was",
            hint="free some disk space or make the directory writable, then try again",
        ) from None
    except NexlaError:
        if fresh_machine:
            _undo_config_dir(store)
        raise
    finally:
        report_notices(store)
        held.release("once the new session was stored")
    _forget_keyring_item(keyring_item, name)  # the file forgot it first
    if save_key:
        if key_storage.warning:
            output.warn(key_storage.warning)
        notes.append(f"Saved the service key for {name} {key_storage.describe()}.")
    return name, session, notes


def _undo_config_dir(store: CredentialStore) -> None:
    """A failed first command leaves no trace: the directory it made only to lock and
    reserve is removed again (unless another command has stored something there)."""
    import contextlib

    if store.path.exists():
        return
    with contextlib.suppress(OSError):
        store.lock_path.unlink()
        store.path.parent.rmdir()


def key_target(explicit_env: Optional[str], store: Optional[CredentialStore] = None) -> str:
    """The environment `token from-key` mints for: --env, $NEXLA_ENV, else the current one.

    Checked before the key is asked for, so nobody types a key only to hear it is useless.
    """
    keys.storage_choice()  # a bad $NEXLA_KEY_STORAGE is exit 2 before anything is read
    return _key_target(explicit_env, store or CredentialStore())[0]


def _key_target(explicit_env: Optional[str], store: CredentialStore) -> Tuple[str, dict]:
    data = load_or_set_aside(store)  # starting over: an unparseable file is kept aside first
    if not chosen_env(data, explicit_env):
        raise ConfigError(
            "no environment to mint a session for",
            hint="name it: `nexla token from-key --env HOST` (or set NEXLA_ENV)",
        )
    name = resolve_env_name(data, explicit_env, must_exist=False)
    _refuse_override_for_storing(name, data["environments"].get(name), "minted")
    return name, data


def _refuse_override_for_storing(name: str, env: Optional[dict], what: str) -> None:
    """A session that will be stored as NAME's must come from NAME's own API: nothing
    learned through $NEXLA_API_URL is stored. UsageError, before anything is sent."""
    own = (env or {}).get("api_url") or names.default_api_url(name)
    raw = settings.raw("NEXLA_API_URL")
    if raw and names.normalize_api_url(raw) != own:
        raise UsageError(
            f"NEXLA_API_URL is set to another API than {name}'s ({own}), and a session "
            f"{what} through it would not be stored; nothing was sent",
            hint=f"unset NEXLA_API_URL, or give {name} that API URL with "
            f"`nexla env configure {name} --api-url URL`",
        )


# Managing environments -----------------------------------------------------------------


def use_env(raw_name: str) -> str:
    store = CredentialStore()
    load(store)  # a corrupt store is an error here, never overwritten
    name = names.normalize_env_name(raw_name)
    try:
        with store.transaction() as data:
            if name not in data["environments"]:
                raise ConfigError(f"unknown environment: {name}", hint="see `nexla env list`")
            data["current"] = name
    finally:
        report_notices(store)
    return name


def logout(explicit_env: Optional[str], *, all_envs: bool) -> List[Tuple[str, bool]]:
    """Tell the server (best effort), then forget the session and any saved key.

    One environment at a time, each under the lock, so that the token logged out is the
    one forgotten and the lock is held for one request at most. Returns (environment,
    had a session) pairs.
    """
    store = CredentialStore()
    kept_earlier = store.kept_aside()
    data = load_or_set_aside(store)
    targets = sorted(data["environments"]) if all_envs else [resolve_env_name(data, explicit_env)]
    results = [(name, _logout_one(store, name)) for name in targets]
    for kept in kept_earlier:
        if kept.exists():
            output.warn(
                f"{kept} was set aside earlier and may still hold tokens: "
                "delete it when you no longer need it"
            )
    return results


def _logout_one(store: CredentialStore, name: str) -> bool:
    held = SignalsHeld()
    keyring_item = None
    try:
        with store.transaction() as data:
            env = data["environments"].get(name)
            if env is None:
                return False  # removed by another process meanwhile
            session = _session_or_none(env)
            if session is not None:
                _server_logout_then_forget(store, held, name, env, session)
            env.pop("session", None)
            keyring_item = _forget_key(env)[1]
    except StoreWriteError as exc:
        raise _forget_failed(name, exc, held) from None
    finally:
        report_notices(store)
        held.release("once the session was forgotten")
    _forget_keyring_item(keyring_item, name)  # the file forgot it first
    return session is not None


def remove_env(raw_name: str) -> Tuple[str, Optional[str]]:
    """Log out of and forget NAME; returns (name, the environment now current)."""
    name = names.normalize_env_name(raw_name)
    store = CredentialStore()
    load_or_set_aside(store)
    held = SignalsHeld()
    keyring_item = None
    try:
        with store.transaction() as data:
            env = data["environments"].get(name)
            if env is None:
                raise ConfigError(f"unknown environment: {name}", hint="see `nexla env list`")
            session = _session_or_none(env)
            if session is not None:
                _server_logout_then_forget(store, held, name, env, session)
            keyring_item = _forget_key(env)[1]
            del data["environments"][name]
            if data.get("current") == name:
                remaining = list(data["environments"])
                data["current"] = remaining[0] if len(remaining) == 1 else None
            current = data.get("current")
    except StoreWriteError as exc:
        raise _forget_failed(name, exc, held) from None
    finally:
        report_notices(store)
        held.release("once the environment was forgotten")
    _forget_keyring_item(keyring_item, name)  # the file forgot it first
    return name, current


def _server_logout_then_forget(
    store: CredentialStore, held: SignalsHeld, name: str, env: dict, session: Session
) -> None:
    """Log out on the server, only once forgetting locally cannot fail for want of room:
    never a session ended on the server and still stored here."""
    api_url, _ = url_for_stored_credentials(env, name)
    store.reserve()
    held.hold("logout")
    _server_logout(name, api_url, session.access_token)


def _forget_failed(name: str, exc: StoreWriteError, held: SignalsHeld) -> ConfigError:
    ended = " (the session was ended on the server)" if "logout" in held.sent else ""
    return ConfigError(f"could not forget the session for {name}{ended}: {exc.message}")


def _session_or_none(env: dict) -> Optional[Session]:
    try:
        return Session.from_dict(env["session"]) if env.get("session") else None
    except ValueError:
        return None


def _server_logout(name: str, api_url: str, token: str) -> None:
    try:
        NexlaClient(api_url).logout(token)
    except AuthError:
        pass  # already invalid server-side: the goal is met
    except NexlaError as exc:
        output.warn(f"could not log out of {name} on the server ({exc.message}); forgot it locally")


def check_token(name: str, env: dict, stored: Optional[Session]) -> dict:
    """Ask NAME's API whether the token in use ($NEXLA_ACCESS_TOKEN, else the stored one)
    is accepted (GET /users/current)."""
    override = access_token_override()
    token = override or (stored.access_token if stored else None)
    if token is None:
        return {"accepted": False, "reason": "not signed in"}
    api_url = api_url_for(env, name) if override else url_for_stored_credentials(env, name)[0]
    try:
        NexlaClient(api_url).current_user(token)
    except AuthError:
        return {"accepted": False, "reason": "the server rejected the token"}
    return {"accepted": True}


# `nexla api`: the token and base URL for one call, renewed once after a 401 ----------------


class ApiTarget:
    """Where `nexla api` sends its calls, and the token it sends.

    The stored token is looked at (and refreshed or re-minted when due) only when first
    needed, so a call refused for its own reasons (a URL outside the base) makes no request.
    A token from $NEXLA_ACCESS_TOKEN is used as it is and never renewed.
    """

    def __init__(
        self,
        name: Optional[str],
        api_url: str,
        token: Optional[str] = None,
        store: Optional[CredentialStore] = None,
        data: Optional[dict] = None,
    ):
        self.name = name
        self.api_url = api_url
        self.from_variable = token is not None
        self._token = token
        self._store = store
        self._data = data

    @property
    def renewable(self) -> bool:
        return self.name is not None and not self.from_variable

    def token(self) -> str:
        if self._token is None:
            assert self.name is not None and self._store is not None and self._data is not None
            self._token = _usable_token(self._data, self.name, self._store)
        return self._token

    def renew_after_rejection(self) -> str:
        """After a 401: refresh, or re-mint from a saved key, and return the new token."""
        assert self.name is not None and self._token is not None
        self._token = renew_after_rejection(self.name, self._token).access_token
        return self._token


def api_target(explicit_env: Optional[str]) -> ApiTarget:
    """The environment's API base URL ($NEXLA_API_URL wins) and its token source."""
    override = access_token_override()
    store = CredentialStore()
    data = load(store)
    if override and not chosen_env(data, explicit_env):
        if not settings.raw("NEXLA_API_URL"):
            raise ConfigError(
                f"{ACCESS_TOKEN_VARIABLE} is set but no environment is configured or current, "
                "so the API URL is unknown",
                hint="set NEXLA_API_URL (e.g. https://dataops.nexla.io/nexla-api) or pass --env",
            )
        return ApiTarget(None, api_url_for(None, ""), override)
    name = resolve_env_name(data, explicit_env)
    env = data["environments"][name]
    # The stored token (and, to renew it, the saved key) goes only to the environment's
    # own API host; a token from the variable may go anywhere.
    api_url = api_url_for(env, name) if override else url_for_stored_credentials(env, name)[0]
    return ApiTarget(name, api_url, override, store=store, data=data)


def renew_after_rejection(name: str, rejected_token: str) -> Session:
    """The API answered 401 to NAME's token: refresh it, or re-mint from a saved key, once.

    An explicit renewal of the refused token: when another process has already replaced
    it, that result is used without asking the server again.
    """
    return renew(name, forced=True, seen_token=rejected_token, seen_token_refused=True)
