"""Managing environments: which is current, logging out, forgetting one, asking the server
whether a token is still accepted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ContextManager, NamedTuple, TypeVar

from nexla_cli.auth import storedsessions
from nexla_cli.auth.exchange import Exchange, exchange
from nexla_cli.core import identities, names
from nexla_cli.core.errors import AuthError, ConfigError, NetworkError, NexlaError
from nexla_cli.core.model import Session
from nexla_cli.http import client
from nexla_cli.storage.store import Environment, Identity, StoreData, StoreWriteError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nexla_cli.auth.sessiondeps import SessionDeps
    from nexla_cli.auth.storedsessions import Key


def use_env(
    deps: SessionDeps, raw_name: str, org: str | None = None, user: str | None = None
) -> tuple[str, str | None]:
    """Make NAME current, and with --org/--user the identity they choose active there;
    returns the name and that identity's label (None without --org/--user)."""
    storedsessions.load(deps)  # a corrupt store is an error here, never overwritten
    name = names.normalize_env_name(raw_name)
    chosen = None
    with deps.store.transaction() as data:
        if name not in data.environments:
            raise ConfigError(f"unknown environment: {name}", hint="see `nexla env list`")
        if org or user:
            env = data.environments[name]
            # Only the options choose here: $NEXLA_ORG chooses for one run, never for good.
            who = identities.choose(name, storedsessions.candidates(env), None, org, user, {})
            identity = env.find(who)
            assert identity is not None
            env.activate(identity)
            chosen = storedsessions.label(identity)
        data.current = name
    return name, chosen


class LoggedOut(NamedTuple):
    """One identity of `env logout`: whether it had a session, why the server could not be
    told of its end (None when it was told, or had nothing to tell), and the identity's
    label where the environment holds several (None otherwise)."""

    name: str
    had_session: bool
    not_told: str | None = None
    identity: str | None = None

    @property
    def where(self) -> str:
        return f"{self.name} as {self.identity}" if self.identity else self.name


def logout(
    deps: SessionDeps,
    explicit_env: str | None,
    *,
    all_envs: bool,
    org: str | None = None,
    user: str | None = None,
) -> list[LoggedOut]:
    """Tell the server (best effort), then forget the identity: its session and any key
    saved for it. Without --all, the identity --org/--user (else $NEXLA_ORG/$NEXLA_USER,
    else the active one) choose on the chosen environment; with --all, every identity of
    every environment.

    One identity at a time, each under the lock, so that the token logged out is the one
    forgotten and the lock is held for one request at most. A server that could not be
    reached (or failed) for one identity is not asked again for the next ones in this run:
    its retries and timeouts are paid once, not once per identity.
    """
    kept_earlier = deps.store.kept_aside()
    data = storedsessions.load_or_set_aside(deps)
    targets = _logout_targets(deps, data, explicit_env, all_envs, org, user)
    failed_servers: dict[str, str] = {}
    results = [
        _logout_one(deps, name, who, shown, failed_servers) for name, who, shown in targets
    ]
    if all_envs:
        for name in sorted(data.environments):
            _forget_unreadable(deps, name)
    for reason, names_not_told in not_told_by_reason(results).items():
        deps.notices.warn(not_told_warning(names_not_told, reason))
    for kept in kept_earlier:
        if Path(kept).exists():
            deps.notices.warn(
                f"{kept} was set aside earlier and may still hold tokens: "
                "delete it when you no longer need it"
            )
    return results


def _logout_targets(
    deps: SessionDeps,
    data: StoreData,
    explicit_env: str | None,
    all_envs: bool,
    org: str | None,
    user: str | None,
) -> list[tuple[str, Key | None, str | None]]:
    """(environment, identity key, label where it has several) for each identity to end."""
    targets: list[tuple[str, Key | None, str | None]] = []
    if all_envs:
        for name in sorted(data.environments):
            env = data.environments[name]
            several = len(env.identities()) > 1
            targets += [
                (name, each.key, storedsessions.label(each) if several else None)
                for each in env.identities()
                if each.key is not None or each is env.active
            ] or [(name, None, None)]
        return targets
    name = storedsessions.resolve_env_name(deps, data, explicit_env)
    who = storedsessions.choose_identity(deps, data, name, org, user)
    env = data.environments[name]
    if who is None and env.active.empty and env.others:
        # Signed in, but as none of them in particular: never "not signed in" (exit 4,
        # naming them, nothing ended).
        storedsessions.require_session(data, name)
    chosen = env.find(who)
    several = len(env.identities()) > 1
    shown = storedsessions.label(chosen) if chosen is not None and several else None
    return [(name, who if who is not None else env.active.key, shown)]


def not_told_by_reason(results: Sequence[LoggedOut]) -> dict[str, list[str]]:
    """The environments whose server was not told, by the reason (in the order met)."""
    grouped: dict[str, list[str]] = {}
    for result in results:
        if result.not_told is not None:
            grouped.setdefault(result.not_told, []).append(result.where)
    return grouped


def not_told_warning(names_not_told: Sequence[str], reason: str) -> str:
    """One warning for every environment whose logout the server did not hear of."""
    if len(names_not_told) == 1:
        return (
            f"could not log out of {names_not_told[0]} on the server ({reason}); forgot it "
            "locally, but the token stays valid on the server until it expires"
        )
    return (
        f"could not log out of {', '.join(names_not_told)} on the server ({reason}); forgot "
        "them locally, but their tokens stay valid on the server until they expire"
    )


def _logout_one(
    deps: SessionDeps,
    name: str,
    who: Key | None,
    shown: str | None,
    failed_servers: dict[str, str],
) -> LoggedOut:
    not_told = None
    with _forgetting(deps, name, "once the session was forgotten") as ex:
        env = ex.data.environments.get(name)
        identity = env.find(who) if env is not None else None
        if env is None or identity is None:
            return LoggedOut(name, False)  # removed or logged out by another process meanwhile
        if who is None and identity.key is not None:
            # Meant for an active identity that says nobody's name (a damaged session, or
            # none); another command made a readable one active since: not the one meant.
            deps.notices.warn(
                f"the active identity of {name} changed meanwhile "
                f"({storedsessions.label(identity)}); it was left signed in"
            )
            return LoggedOut(name, False)
        # A damaged session is forgotten like any other, with nothing sent (store.py).
        stored = identity.session_unless_damaged()
        if stored is not None:
            not_told = _server_logout_then_forget(deps, ex, name, env, stored, failed_servers)
        identity.session = None
        ex.forget_key(identity, name)
        env.forget(identity)
    return LoggedOut(name, stored is not None, not_told, shown)


def _forget_unreadable(deps: SessionDeps, name: str) -> None:
    """`logout --all`: forget the identities whose session cannot be read (store.py, "A
    damaged session"), which no --org can name: there is nothing to send for them."""
    with _forgetting(deps, name, "once the session was forgotten") as ex:
        env = ex.data.environments.get(name)
        if env is None:
            return
        for identity in env.identities():
            if identity.session_damaged or identity.key is None:
                identity.session = None
                ex.forget_key(identity, name)
                env.forget(identity)


def remove_env(deps: SessionDeps, raw_name: str) -> tuple[str, str | None]:
    """Log out of and forget NAME; returns (name, the environment now current)."""
    name = names.normalize_env_name(raw_name)
    storedsessions.load_or_set_aside(deps)
    with _forgetting(deps, name, "once the environment was forgotten") as ex:
        data = ex.data
        env = data.environments.get(name)
        if env is None:
            raise ConfigError(f"unknown environment: {name}", hint="see `nexla env list`")
        # A damaged session is forgotten like any other, with nothing sent (store.py).
        sessions = [
            stored
            for stored in (identity.session_unless_damaged() for identity in env.identities())
            if stored is not None
        ]
        for reason in _tell_server_all_at_once(deps, ex, name, env, sessions):
            deps.notices.warn(not_told_warning([name], reason))
        for identity in env.identities():
            ex.forget_key(identity, name)
        del data.environments[name]
        if data.current == name:
            remaining = list(data.environments)
            data.current = remaining[0] if len(remaining) == 1 else None
        current = data.current
    return name, current


def current_env(deps: SessionDeps) -> str | None:
    """The current environment, or None (also when the store cannot be read)."""
    try:
        return storedsessions.load(deps).current
    except NexlaError:
        return None


def _server_logout_then_forget(
    deps: SessionDeps,
    ex: Exchange,
    name: str,
    env: Environment,
    stored: Session,
    failed_servers: dict[str, str],
) -> str | None:
    """Log out on the server, only once forgetting locally cannot fail for want of room:
    never a session ended on the server and still stored here. Returns why the server
    could not be told, or None. `failed_servers` (API URL: why) holds the servers that
    could not be reached earlier in this run, which are not asked again."""
    api_url, _ = storedsessions.url_for_stored_credentials(deps, env, name)
    if api_url in failed_servers:
        return failed_servers[api_url]
    ex.reserve()
    ex.sending("logout")
    not_told, unreachable = _server_logout(deps, api_url, stored.access_token)
    if unreachable and not_told is not None:
        failed_servers[api_url] = not_told
    return not_told


def _tell_server_all_at_once(
    deps: SessionDeps, ex: Exchange, name: str, env: Environment, sessions: list[Session]
) -> list[str]:
    """`env remove`: every identity's session logged out on the server at once, so that the
    lock is held for one request however many identities there are (room reserved first,
    as for one). Why the server was not told, each reason once."""
    if not sessions:
        return []
    api_url, _ = storedsessions.url_for_stored_credentials(deps, env, name)
    ex.reserve()
    ex.sending("logout")
    answers = all_at_once(
        lambda stored: _server_logout(deps, api_url, stored.access_token)[0],
        sessions,
        MAX_CONCURRENT_CHECKS,
    )
    return list(dict.fromkeys(reason for reason in answers if reason is not None))


def _server_logout(deps: SessionDeps, api_url: str, token: str) -> tuple[str | None, bool]:
    """POST /token/logout: why the server was not told (None when it was, or when the token
    was already invalid there), and whether the server could not be reached."""
    try:
        deps.client(api_url).logout(token)
    except AuthError:
        return None, False  # already invalid server-side: the goal is met
    except NetworkError as exc:
        return exc.message, True
    except NexlaError as exc:
        return exc.message, False
    return None, False


def _forgetting(deps: SessionDeps, name: str, done: str) -> ContextManager[Exchange]:
    """The exchange that forgets something of NAME (`done`: when signals are acted on)."""
    return exchange(deps, done=done, if_unwritten=lambda exc, ex: _forget_failed(name, exc, ex))


def _forget_failed(name: str, exc: StoreWriteError, ex: Exchange) -> ConfigError:
    ended = " (the session was ended on the server)" if "logout" in ex.sent else ""
    return ConfigError(f"could not forget the session for {name}{ended}: {exc.message}")


# Asking the server whether a token is accepted ---------------------------------------------

VALID, REJECTED, UNREACHABLE = "valid", "rejected", "unreachable"
# Environments asked at the same time (docs/scripting.md): more than anyone configures, few
# enough that the sockets and threads fit any machine's limits (1024 descriptors by default).
MAX_CONCURRENT_CHECKS = 256


def check_token(
    deps: SessionDeps, name: str, env: Environment, stored: Session | None
) -> dict[str, object]:
    """Ask NAME's API whether the token in use ($NEXLA_ACCESS_TOKEN, else the stored one)
    is accepted (GET /users/current). A network failure is a NetworkError (exit 5)."""
    override = storedsessions.access_token_override(deps)
    target = _token_to_check(deps, name, env, stored, override)
    if target is None:
        return {"accepted": False, "reason": "not signed in"}
    api_url, token, _ = target
    if not _accepted(deps, api_url, token):
        return {"accepted": False, "reason": "the server rejected the token"}
    return {"accepted": True}


def check_environments(
    deps: SessionDeps, data: StoreData
) -> dict[tuple[str, Identity | None], dict[str, str | None]]:
    """One GET /users/current per identity that has a token, all at once.

    Returns {(name, identity): {"status": valid | rejected | unreachable,
    "token_source": …, "error": the reason it was unreachable or None}} (the identities of
    `data` themselves, never their keys, which org ids such as 1 and true would confuse;
    None for the token of $NEXLA_ACCESS_TOKEN); identities without a token are left out.
    The token is the stored one, sent as it is: nothing is renewed and nothing is written.
    $NEXLA_ACCESS_TOKEN, when set, wins as for `env show --check` and `api`, but only for
    the chosen environment ($NEXLA_ENV, else the current one): a token is for one host, and
    is never sent to every configured one. Every stored token's API URL is checked before
    anything is sent.
    """
    override = storedsessions.access_token_override(deps)
    chosen = storedsessions.choose_env(deps, data, None).name if override else None
    targets: list[tuple[tuple[str, Identity | None], str, str, str]] = []
    for name in sorted(data.environments):
        env = data.environments[name]
        if override and (chosen is None or names.normalize_env_name(chosen) != name):
            continue
        held: list[tuple[Identity | None, Session | None]] = (
            [(None, env.session)]
            if override
            else [(each, each.session) for each in env.identities()]
        )
        for identity, stored in held:
            target = _token_to_check(deps, name, env, stored, override)
            if target is not None:
                targets.append(((name, identity), *target))
    if not targets:
        return {}

    client.load_before_threads()

    def check(
        target: tuple[tuple[str, Identity | None], str, str, str],
    ) -> dict[str, str | None]:
        _, api_url, token, source = target
        return {"token_source": source, **_status(deps, api_url, token)}

    outcomes = all_at_once(check, targets, MAX_CONCURRENT_CHECKS)
    return {target[0]: outcome for target, outcome in zip(targets, outcomes, strict=True)}


_T = TypeVar("_T")
_R = TypeVar("_R")


def all_at_once(work: Callable[[_T], _R], items: Sequence[_T], limit: int) -> list[_R]:
    """work(item) for every item, `limit` at a time at most, each in a thread of its own;
    the results in the order of the items (the first exception raised, raised here).

    The threads are daemons and this thread waits on them in a way a signal interrupts:
    Ctrl-C ends the command at once (exit 130), abandoning the calls still waiting for a
    server rather than waiting out their timeouts and retries. A ThreadPoolExecutor would
    wait for every call it started, both on leaving its block and when Python exits.
    """
    import threading

    results: dict[int, _R] = {}
    failures: list[BaseException] = []
    slots = threading.BoundedSemaphore(limit)
    finished = threading.Semaphore(0)

    def run(index: int, item: _T) -> None:
        try:
            results[index] = work(item)
        except BaseException as exc:  # handed to the waiting thread, which raises it
            failures.append(exc)
        finally:
            slots.release()
            finished.release()

    for index, item in enumerate(items):
        slots.acquire()
        threading.Thread(target=run, args=(index, item), daemon=True).start()
    for _ in items:
        finished.acquire()
    if failures:
        raise failures[0]
    return [results[index] for index in range(len(items))]


def _token_to_check(
    deps: SessionDeps, name: str, env: Environment, stored: Session | None, override: str | None
) -> tuple[str, str, str] | None:
    """(API URL, token, where the token came from) for NAME, or None without a token.

    A token from $NEXLA_ACCESS_TOKEN may go to $NEXLA_API_URL wherever it points; a stored
    one only to the environment's own API host (a UsageError otherwise, before sending)."""
    if override:
        return (
            storedsessions.api_url_for(deps, env, name),
            override,
            storedsessions.ACCESS_TOKEN_VARIABLE,
        )
    if stored is None:
        return None
    api_url = storedsessions.url_for_stored_credentials(deps, env, name)[0]
    return api_url, stored.access_token, stored.source


def _accepted(deps: SessionDeps, api_url: str, token: str) -> bool:
    try:
        deps.client(api_url).current_user(token)
    except AuthError:
        return False
    return True


def _status(deps: SessionDeps, api_url: str, token: str) -> dict[str, str | None]:
    try:
        accepted = _accepted(deps, api_url, token)
    except NetworkError as exc:
        return {"status": UNREACHABLE, "error": exc.message}
    return {"status": VALID if accepted else REJECTED, "error": None}
