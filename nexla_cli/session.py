"""Session logic: signing in, renewing when due, minting from service keys, logging out.

Commands call these functions; these call the store and the HTTP client, never back.
Renewal is single-flight across processes: it happens under the store's lock, and a
process that waited for the lock first looks at what the previous holder left behind (a
fresh token, or a failure remembered for FAILURE_MEMORY_SECONDS) before asking the server.
"""

import os
import time
from typing import List, Optional, Tuple, Union

from nexla_cli import names, output
from nexla_cli.client import NexlaClient
from nexla_cli.errors import (
    LOGIN_HINT,
    AuthError,
    ConfigError,
    NetworkError,
    NexlaError,
)
from nexla_cli.model import (
    ESTIMATED_LIFETIME_SECONDS,
    FAILURE_MEMORY_SECONDS,
    Session,
    org_summary,
    session_from_token_response,
    user_summary,
)
from nexla_cli.store import CorruptStore, CredentialStore

ACCESS_TOKEN_VARIABLE = "NEXLA_ACCESS_TOKEN"


# Choosing the environment -----------------------------------------------------------------


def resolve_env_name(data: dict, explicit: Optional[str], *, must_exist: bool = True) -> str:
    """--env, else $NEXLA_ENV, else the current environment; normalised."""
    raw = explicit or os.environ.get("NEXLA_ENV") or data.get("current")
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
    override = os.environ.get("NEXLA_API_URL")
    if override:
        return names.normalize_api_url(override)
    if env and env.get("api_url"):
        return env["api_url"]
    return names.default_api_url(name)


def stored_session(env: dict, store_path) -> Optional[Session]:
    raw = env.get("session")
    if raw is None:
        return None
    try:
        return Session.from_dict(raw)
    except ValueError as exc:
        raise CorruptStore(store_path, str(exc)) from None


def access_token_override() -> Optional[str]:
    value = os.environ.get(ACCESS_TOKEN_VARIABLE, "").strip()
    return value or None


def warn_if_access_token_override() -> None:
    """Commands that manage the store say that the variable will win elsewhere."""
    if access_token_override():
        output.warn(
            f"{ACCESS_TOKEN_VARIABLE} is set: it wins over the stored session for "
            "`token print`, `token status`, `env show --check` and `api`"
        )


def report_notices(store: CredentialStore) -> None:
    for notice in store.notices:
        output.warn(notice)
    store.notices.clear()


def load(store: CredentialStore) -> dict:
    try:
        return store.load()
    finally:
        report_notices(store)


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
    stored_api_url = api_url or (existing or {}).get("api_url") or names.default_api_url(name)
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
        user, org = user_summary(who["user"]), org_summary(who["org"])
    now = int(time.time())
    session = Session(
        access_token=token,
        obtained_at=now,
        expires_at=now + ESTIMATED_LIFETIME_SECONDS,
        expires_estimated=True,
        source="pasted",
        user=user,
        org=org,
    )
    try:
        with store.transaction(recover_corrupt=True) as data:
            env = data["environments"].setdefault(name, {"api_url": stored_api_url})
            env["api_url"] = stored_api_url
            # A key minted for one identity must never re-mint after another signed in.
            dropped_key = env.pop("service_key", None) is not None
            env["session"] = session.to_dict()
            if make_current or not data.get("current"):
                data["current"] = name
    finally:
        report_notices(store)
    return session, dropped_key


def _peek_env(store: CredentialStore, name: str) -> Optional[dict]:
    """The stored environment, if readable; a corrupt store is dealt with when writing."""
    try:
        return load(store)["environments"].get(name)
    except CorruptStore:
        return None


# Live tokens and renewal ---------------------------------------------------------------


def live_token(explicit_env: Optional[str] = None) -> str:
    """A token that is good to use now, refreshing (or re-minting) it first when due."""
    override = access_token_override()
    if override:
        return override
    store = CredentialStore()
    data = load(store)
    name = resolve_env_name(data, explicit_env)
    session = _require_session(data, name, store)
    if session.is_fresh():
        return session.access_token
    return renew(name, store=store, forced=False).access_token


def renew(name: str, *, store: Optional[CredentialStore] = None, forced: bool) -> Session:
    """Refresh NAME's session under the lock; `forced` for an explicit `token refresh`.

    Unforced, a still-valid token is kept (with a warning) when the server cannot be
    reached. Forced, that is an error, since the refresh asked for did not happen.
    """
    store = store or CredentialStore()
    started = int(time.time())
    try:
        with store.transaction() as data:
            outcome = _renew_locked(data, name, store, forced=forced, started=started)
    finally:
        report_notices(store)
    if isinstance(outcome, NexlaError):
        raise outcome
    return outcome


def _renew_locked(
    data: dict, name: str, store: CredentialStore, *, forced: bool, started: int
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
    # Another process renewed it while we waited for the lock, or since we started.
    if session.source != "pasted" and session.obtained_at >= started and not session.rejected:
        return session
    if not forced and session.is_fresh(now):
        return session

    service_key = env.get("service_key")
    if session.rejected and not service_key:
        return _dead_session_error(name)
    remembered = session.recent_failure(now)
    if remembered:
        return _unreachable_outcome(
            name,
            session,
            remembered.get("message", "the server could not be reached"),
            forced=forced,
            remembered_at=float(remembered.get("at", now)),
        )

    client = NexlaClient(api_url_for(env, name))
    try:
        if service_key and (session.is_expired(now) or session.rejected):
            renewed = _mint(client, service_key)
        else:
            try:
                renewed = session_from_token_response(
                    client.refresh(session.access_token), "refreshed"
                )
            except AuthError:
                if not service_key:
                    session.refresh_failure = {"at": int(now), "kind": "rejected"}
                    env["session"] = session.to_dict()
                    return _dead_session_error(name)
                renewed = _mint(client, service_key)
    except NetworkError as exc:
        session.refresh_failure = {"at": int(now), "kind": "unreachable", "message": exc.message}
        env["session"] = session.to_dict()
        return _unreachable_outcome(name, session, exc.message, forced=forced)
    except AuthError:
        # Only the saved service key can be refused here.
        return AuthError(
            f"the saved service key for {name} was rejected",
            hint=f"run `nexla token from-key --env {name} --save-key` with a valid key, "
            f"or `nexla env login --env {name}`",
        )
    env["session"] = renewed.to_dict()
    return renewed


def _mint(client: NexlaClient, service_key: str) -> Session:
    return session_from_token_response(client.mint(service_key), "service_key")


def _dead_session_error(name: str) -> AuthError:
    return AuthError(
        f"the session for {name} has expired or was revoked (the server refused to refresh it)",
        hint=f"{LOGIN_HINT} (`nexla env login --env {name}`)",
    )


def _unreachable_outcome(
    name: str, session: Session, reason: str, *, forced: bool, remembered_at: Optional[float] = None
) -> Union[Session, NexlaError]:
    when = ""
    if remembered_at is not None:
        ago = max(int(time.time() - remembered_at), 0)
        when = f" {ago}s ago; not retried for {FAILURE_MEMORY_SECONDS}s"
    if forced:
        still = (
            ""
            if session.is_expired()
            else "; the current token stays valid until " + _clock(session.expires_at)
        )
        return NetworkError(f"could not refresh the session for {name}: {reason}{when}{still}")
    if session.is_expired():
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


def _clock(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


# Service keys -------------------------------------------------------------------------


def mint_from_key(
    explicit_env: Optional[str], service_key: str, *, save_key: bool
) -> Tuple[str, Session, List[str]]:
    """POST /token with the key and store the session; returns (env name, session, notes).

    An environment named with --env or $NEXLA_ENV that is not configured is added; it
    becomes current only when none is.
    """
    store = CredentialStore()
    try:
        data = load(store)
    except CorruptStore:
        data = None  # set aside when writing below
    name = resolve_env_name(data or _empty(), explicit_env, must_exist=False)
    existing = (data or _empty())["environments"].get(name)
    try:
        body = NexlaClient(api_url_for(existing, name)).mint(service_key)
    except AuthError:
        raise AuthError(f"the service key was rejected by {name}; nothing was changed") from None
    session = session_from_token_response(body, "service_key")
    notes: List[str] = []
    try:
        with store.transaction(recover_corrupt=True) as data:
            env = data["environments"].get(name)
            if env is None:
                env = data["environments"][name] = {"api_url": names.default_api_url(name)}
                notes.append(f"added environment {name}")
            if not data.get("current"):
                data["current"] = name
            env["session"] = session.to_dict()
            if save_key:
                env["service_key"] = service_key
            elif env.get("service_key") not in (None, service_key):
                # A key saved for another identity must not re-mint this one's sessions.
                del env["service_key"]
                notes.append(f"dropped the service key saved earlier for {name}")
    finally:
        report_notices(store)
    return name, session, notes


def _empty() -> dict:
    return {"version": 1, "current": None, "environments": {}}


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
    """Forget the session (and saved key) locally first, then tell the server (best effort).

    Returns (environment, had a session) pairs.
    """
    store = CredentialStore()
    kept_earlier = store.kept_aside()
    forgotten = []
    try:
        with store.transaction(recover_corrupt=True) as data:
            targets = (
                list(data["environments"]) if all_envs else [resolve_env_name(data, explicit_env)]
            )
            for name in targets:
                env = data["environments"][name]
                session = _session_or_none(env)
                env.pop("session", None)
                env.pop("service_key", None)
                forgotten.append((name, session, api_url_for(env, name)))
    finally:
        report_notices(store)
    for kept in kept_earlier:
        if kept.exists():
            output.warn(
                f"{kept} was set aside earlier and may still hold tokens: "
                "delete it when you no longer need it"
            )
    for name, session, api_url in forgotten:
        if session is not None:
            _server_logout(name, api_url, session.access_token)
    return [(name, session is not None) for name, session, _ in forgotten]


def remove_env(raw_name: str) -> Tuple[str, Optional[str]]:
    """Log out of and forget NAME; returns (name, the environment now current)."""
    name = names.normalize_env_name(raw_name)
    store = CredentialStore()
    try:
        with store.transaction(recover_corrupt=True) as data:
            env = data["environments"].pop(name, None)
            if env is None:
                raise ConfigError(f"unknown environment: {name}", hint="see `nexla env list`")
            if data.get("current") == name:
                remaining = list(data["environments"])
                data["current"] = remaining[0] if len(remaining) == 1 else None
            current = data.get("current")
    finally:
        report_notices(store)
    session = _session_or_none(env)
    if session is not None:
        _server_logout(name, api_url_for(env, name), session.access_token)
    return name, current


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


def check_token(explicit_env: Optional[str]) -> dict:
    """Ask the server whether the token is accepted (GET /users/current)."""
    override = access_token_override()
    store = CredentialStore()
    data = load(store)
    if override and not (explicit_env or os.environ.get("NEXLA_ENV") or data.get("current")):
        name, env, token = None, None, override
    else:
        name = resolve_env_name(data, explicit_env)
        env = data["environments"][name]
        session = stored_session(env, store.path)
        token = override or (session.access_token if session else None)
    if token is None:
        return {"accepted": False, "reason": "not signed in"}
    if name is None and not os.environ.get("NEXLA_API_URL"):
        raise ConfigError(
            f"{ACCESS_TOKEN_VARIABLE} is set but no environment is configured",
            hint="set NEXLA_API_URL or pass --env",
        )
    try:
        NexlaClient(api_url_for(env, name or "")).current_user(token)
    except AuthError:
        return {"accepted": False, "reason": "the server rejected the token"}
    return {"accepted": True}
