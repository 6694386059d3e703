"""Session logic: signing in, renewing when due, minting from service keys, logging out.

Commands call these functions; these call the store and the HTTP client, never back.
Renewal is single-flight across processes: it happens under the store's lock, and a
process that waited for the lock first looks at what the previous holder left behind (a
fresh token, or a failure remembered for FAILURE_MEMORY_SECONDS) before asking the server.
"""

import os
import time
from typing import List, Optional, Tuple, Union

from nexla_cli import names, output, timefmt
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


def chosen_env(data: dict, explicit: Optional[str]) -> Optional[str]:
    """--env, else $NEXLA_ENV, else the current environment, as given; None if none is."""
    return explicit or os.environ.get("NEXLA_ENV") or data.get("current")


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
        except NetworkError as exc:
            raise NetworkError(
                f"could not check the token with {name}: {exc.message}; nothing was saved",
                exc.hint,
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
            if make_current:
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
    return _usable_token(data, resolve_env_name(data, explicit_env), store)


def _usable_token(data: dict, name: str, store: CredentialStore) -> str:
    """NAME's stored token, renewed first (single-flight) when it is due."""
    session = _require_session(data, name, store)
    if session.is_fresh():
        return session.access_token
    return renew(name, store=store, forced=False, seen_token=session.access_token).access_token


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
) -> Session:
    """Refresh NAME's session under the lock; `forced` for an explicit `token refresh`.

    `seen_token` is the token the caller found due (or was refused with): if the store
    holds another by the time the lock is ours, another process renewed it meanwhile and
    its result is used instead of asking the server again.

    Unforced, a still-valid token is kept (with a warning) when the server cannot be
    reached. Forced, that is an error, since the refresh asked for did not happen.
    """
    store = store or CredentialStore()
    try:
        with store.transaction() as data:
            outcome = _renew_locked(
                data,
                name,
                store,
                forced=forced,
                seen_token=seen_token,
                refused_token=seen_token if seen_token_refused else None,
            )
    finally:
        report_notices(store)
    if isinstance(outcome, NexlaError):
        raise outcome
    return outcome


def _renew_locked(
    data: dict,
    name: str,
    store: CredentialStore,
    *,
    forced: bool,
    seen_token: Optional[str],
    refused_token: Optional[str] = None,
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
    # Another process renewed it (or signed in again) while we waited for the lock.
    # Compared by token, not by time: a clock second holds several commands.
    if (
        seen_token is not None
        and session.access_token != seen_token
        and not session.rejected
        and not session.is_expired(now)
    ):
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
            refused_token=refused_token,
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
        return _unreachable_outcome(
            name, session, exc.message, forced=forced, refused_token=refused_token
        )
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
    if forced:
        # After the API refused the token, it is no longer known to be valid.
        still = (
            ""
            if session.is_expired() or session.access_token == refused_token
            else "; the current token stays valid until " + _clock(session.expires_at)
        )
        return NetworkError(f"the session for {name} could not be renewed: {reason}{when}{still}")
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
    return timefmt.iso_utc(epoch)


# Service keys -------------------------------------------------------------------------


def mint_from_key(
    explicit_env: Optional[str], service_key: str, *, save_key: bool
) -> Tuple[str, Session, List[str]]:
    """POST /token with the key and store the session; returns (env name, session, notes).

    An environment named with --env or $NEXLA_ENV that is not configured is added; it
    becomes current only when none is.
    """
    store = CredentialStore()
    name, data = _key_target(explicit_env, store)
    existing = data["environments"].get(name)
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


def key_target(explicit_env: Optional[str], store: Optional[CredentialStore] = None) -> str:
    """The environment `token from-key` mints for: --env, $NEXLA_ENV, else the current one.

    Checked before the key is asked for, so nobody types a key only to hear it is useless.
    """
    return _key_target(explicit_env, store or CredentialStore())[0]


def _key_target(explicit_env: Optional[str], store: CredentialStore) -> Tuple[str, dict]:
    data = load_or_set_aside(store)  # starting over: an unparseable file is kept aside first
    if not chosen_env(data, explicit_env):
        raise ConfigError(
            "no environment to mint a session for",
            hint="name it: `nexla token from-key --env HOST` (or set NEXLA_ENV)",
        )
    return resolve_env_name(data, explicit_env, must_exist=False), data


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
    try:
        with store.transaction() as data:
            env = data["environments"].get(name)
            if env is None:
                return False  # removed by another process meanwhile
            session = _session_or_none(env)
            if session is not None:
                _server_logout(name, api_url_for(env, name), session.access_token)
            env.pop("session", None)
            env.pop("service_key", None)
    finally:
        report_notices(store)
    return session is not None


def remove_env(raw_name: str) -> Tuple[str, Optional[str]]:
    """Log out of and forget NAME; returns (name, the environment now current)."""
    name = names.normalize_env_name(raw_name)
    store = CredentialStore()
    load_or_set_aside(store)
    try:
        with store.transaction() as data:
            env = data["environments"].get(name)
            if env is None:
                raise ConfigError(f"unknown environment: {name}", hint="see `nexla env list`")
            session = _session_or_none(env)
            if session is not None:
                _server_logout(name, api_url_for(env, name), session.access_token)
            del data["environments"][name]
            if data.get("current") == name:
                remaining = list(data["environments"])
                data["current"] = remaining[0] if len(remaining) == 1 else None
            current = data.get("current")
    finally:
        report_notices(store)
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


def check_token(name: str, env: dict, stored: Optional[Session]) -> dict:
    """Ask NAME's API whether the token in use ($NEXLA_ACCESS_TOKEN, else the stored one)
    is accepted (GET /users/current)."""
    token = access_token_override() or (stored.access_token if stored else None)
    if token is None:
        return {"accepted": False, "reason": "not signed in"}
    try:
        NexlaClient(api_url_for(env, name)).current_user(token)
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
        if not os.environ.get("NEXLA_API_URL"):
            raise ConfigError(
                f"{ACCESS_TOKEN_VARIABLE} is set but no environment is configured or current, "
                "so the API URL is unknown",
                hint="set NEXLA_API_URL (e.g. https://dataops.nexla.io/nexla-api) or pass --env",
            )
        return ApiTarget(None, api_url_for(None, ""), override)
    name = resolve_env_name(data, explicit_env)
    api_url = api_url_for(data["environments"][name], name)
    return ApiTarget(name, api_url, override, store=store, data=data)


def renew_after_rejection(name: str, rejected_token: str) -> Session:
    """The API answered 401 to NAME's token: refresh it, or re-mint from a saved key, once.

    An explicit renewal of the refused token: when another process has already replaced
    it, that result is used without asking the server again.
    """
    return renew(name, forced=True, seen_token=rejected_token, seen_token_refused=True)
