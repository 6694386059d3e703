"""Managing environments: which is current, logging out, forgetting one, asking the server
whether a token is still accepted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple, TypeVar

from nexla_cli.auth import storedsessions
from nexla_cli.auth.exchange import Exchange, exchange
from nexla_cli.core import names
from nexla_cli.core.errors import AuthError, ConfigError, NetworkError, NexlaError
from nexla_cli.core.model import Session
from nexla_cli.http import client
from nexla_cli.storage.store import Environment, StoreData, StoreWriteError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nexla_cli.auth.sessiondeps import SessionDeps


def use_env(deps: SessionDeps, raw_name: str) -> str:
    storedsessions.load(deps)  # a corrupt store is an error here, never overwritten
    name = names.normalize_env_name(raw_name)
    with deps.store.transaction() as data:
        if name not in data.environments:
            raise ConfigError(f"unknown environment: {name}", hint="see `nexla env list`")
        data.current = name
    return name


class LoggedOut(NamedTuple):
    """One environment of `env logout`: whether it had a session, and why the server could
    not be told of its end (None when it was told, or had nothing to tell)."""

    name: str
    had_session: bool
    not_told: str | None = None


def logout(deps: SessionDeps, explicit_env: str | None, *, all_envs: bool) -> list[LoggedOut]:
    """Tell the server (best effort), then forget the session and any saved key.

    One environment at a time, each under the lock, so that the token logged out is the
    one forgotten and the lock is held for one request at most. A server that could not be
    reached (or failed) for one environment is not asked again for the next ones in this
    run: its retries and timeouts are paid once, not once per environment.
    """
    kept_earlier = deps.store.kept_aside()
    data = storedsessions.load_or_set_aside(deps)
    targets = (
        sorted(data.environments)
        if all_envs
        else [storedsessions.resolve_env_name(deps, data, explicit_env)]
    )
    failed_servers: dict[str, str] = {}
    results = [_logout_one(deps, name, failed_servers) for name in targets]
    for reason, names_not_told in not_told_by_reason(results).items():
        deps.notices.warn(not_told_warning(names_not_told, reason))
    for kept in kept_earlier:
        if Path(kept).exists():
            deps.notices.warn(
                f"{kept} was set aside earlier and may still hold tokens: "
                "delete it when you no longer need it"
            )
    return results


def not_told_by_reason(results: Sequence[LoggedOut]) -> dict[str, list[str]]:
    """The environments whose server was not told, by the reason (in the order met)."""
    grouped: dict[str, list[str]] = {}
    for result in results:
        if result.not_told is not None:
            grouped.setdefault(result.not_told, []).append(result.name)
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


def _logout_one(deps: SessionDeps, name: str, failed_servers: dict[str, str]) -> LoggedOut:
    not_told = None
    with exchange(
        deps,
        done="once the session was forgotten",
        if_unwritten=lambda exc, ex: _forget_failed(name, exc, ex),
    ) as ex:
        env = ex.data.environments.get(name)
        if env is None:
            return LoggedOut(name, False)  # removed by another process meanwhile
        # A damaged session is forgotten like any other, with nothing sent (store.py).
        stored = env.session_unless_damaged()
        if stored is not None:
            not_told = _server_logout_then_forget(deps, ex, name, env, stored, failed_servers)
        env.session = None
        ex.forget_key(env, name)
    return LoggedOut(name, stored is not None, not_told)


def remove_env(deps: SessionDeps, raw_name: str) -> tuple[str, str | None]:
    """Log out of and forget NAME; returns (name, the environment now current)."""
    name = names.normalize_env_name(raw_name)
    storedsessions.load_or_set_aside(deps)
    with exchange(
        deps,
        done="once the environment was forgotten",
        if_unwritten=lambda exc, ex: _forget_failed(name, exc, ex),
    ) as ex:
        data = ex.data
        env = data.environments.get(name)
        if env is None:
            raise ConfigError(f"unknown environment: {name}", hint="see `nexla env list`")
        # A damaged session is forgotten like any other, with nothing sent (store.py).
        stored = env.session_unless_damaged()
        not_told = (
            _server_logout_then_forget(deps, ex, name, env, stored, {})
            if stored is not None
            else None
        )
        if not_told is not None:
            deps.notices.warn(not_told_warning([name], not_told))
        ex.forget_key(env, name)
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
    already failed in this run, which are not asked again."""
    api_url, _ = storedsessions.url_for_stored_credentials(deps, env, name)
    if api_url in failed_servers:
        return failed_servers[api_url]
    ex.reserve()
    ex.sending("logout")
    try:
        deps.client(api_url).logout(stored.access_token)
    except AuthError:
        pass  # already invalid server-side: the goal is met
    except NetworkError as exc:
        failed_servers[api_url] = exc.message
        return exc.message
    except NexlaError as exc:
        return exc.message
    return None


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


def check_environments(deps: SessionDeps, data: StoreData) -> dict[str, dict[str, str | None]]:
    """One GET /users/current per environment that has a token, all at once.

    Returns {name: {"status": valid | rejected | unreachable, "token_source": …, "error":
    the reason it was unreachable or None}}; environments without a token are left out.
    The token is the stored one, sent as it is: nothing is renewed and nothing is written.
    $NEXLA_ACCESS_TOKEN, when set, wins as for `env show --check` and `api`, but only for
    the chosen environment ($NEXLA_ENV, else the current one): a token is for one host, and
    is never sent to every configured one. Every stored token's API URL is checked before
    anything is sent.
    """
    override = storedsessions.access_token_override(deps)
    chosen = storedsessions.choose_env(deps, data, None).name if override else None
    targets = []
    for name in sorted(data.environments):
        env = data.environments[name]
        if override and (chosen is None or names.normalize_env_name(chosen) != name):
            continue
        target = _token_to_check(deps, name, env, env.session, override)
        if target is not None:
            targets.append((name, *target))
    if not targets:
        return {}

    client.load_before_threads()

    def check(target: tuple[str, str, str, str]) -> dict[str, str | None]:
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
