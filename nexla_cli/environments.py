"""Managing environments: which is current, logging out, forgetting one, asking the server
whether a token is still accepted."""

from __future__ import annotations

from pathlib import Path

from nexla_cli import names, session
from nexla_cli.deps import Deps
from nexla_cli.errors import AuthError, ConfigError, NexlaError
from nexla_cli.exchange import Exchange, exchange
from nexla_cli.model import Session
from nexla_cli.store import Environment, StoreWriteError


def use_env(deps: Deps, raw_name: str) -> str:
    session.load(deps)  # a corrupt store is an error here, never overwritten
    name = names.normalize_env_name(raw_name)
    with deps.store.transaction() as data:
        if name not in data.environments:
            raise ConfigError(f"unknown environment: {name}", hint="see `nexla env list`")
        data.current = name
    return name


def logout(deps: Deps, explicit_env: str | None, *, all_envs: bool) -> list[tuple[str, bool]]:
    """Tell the server (best effort), then forget the session and any saved key.

    One environment at a time, each under the lock, so that the token logged out is the
    one forgotten and the lock is held for one request at most. Returns (environment,
    had a session) pairs.
    """
    kept_earlier = deps.store.kept_aside()
    data = session.load_or_set_aside(deps)
    targets = (
        sorted(data.environments)
        if all_envs
        else [session.resolve_env_name(deps, data, explicit_env)]
    )
    results = [(name, _logout_one(deps, name)) for name in targets]
    for kept in kept_earlier:
        if Path(kept).exists():
            deps.notices.warn(
                f"{kept} was set aside earlier and may still hold tokens: "
                "delete it when you no longer need it"
            )
    return results


def _logout_one(deps: Deps, name: str) -> bool:
    with exchange(
        deps,
        done="once the session was forgotten",
        if_unwritten=lambda exc, ex: _forget_failed(name, exc, ex),
    ) as ex:
        env = ex.data.environments.get(name)
        if env is None:
            return False  # removed by another process meanwhile
        # A damaged session is forgotten like any other, with nothing sent (store.py).
        stored = env.session_unless_damaged()
        if stored is not None:
            _server_logout_then_forget(deps, ex, name, env, stored)
        env.session = None
        ex.forget_key(env, name)
    return stored is not None


def remove_env(deps: Deps, raw_name: str) -> tuple[str, str | None]:
    """Log out of and forget NAME; returns (name, the environment now current)."""
    name = names.normalize_env_name(raw_name)
    session.load_or_set_aside(deps)
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
        if stored is not None:
            _server_logout_then_forget(deps, ex, name, env, stored)
        ex.forget_key(env, name)
        del data.environments[name]
        if data.current == name:
            remaining = list(data.environments)
            data.current = remaining[0] if len(remaining) == 1 else None
        current = data.current
    return name, current


def current_env(deps: Deps) -> str | None:
    """The current environment, or None (also when the store cannot be read)."""
    try:
        return session.load(deps).current
    except NexlaError:
        return None


def _server_logout_then_forget(
    deps: Deps, ex: Exchange, name: str, env: Environment, stored: Session
) -> None:
    """Log out on the server, only once forgetting locally cannot fail for want of room:
    never a session ended on the server and still stored here."""
    api_url, _ = session.url_for_stored_credentials(deps, env, name)
    ex.reserve()
    ex.sending("logout")
    try:
        deps.client(api_url).logout(stored.access_token)
    except AuthError:
        pass  # already invalid server-side: the goal is met
    except NexlaError as exc:
        deps.notices.warn(
            f"could not log out of {name} on the server ({exc.message}); forgot it locally"
        )


def _forget_failed(name: str, exc: StoreWriteError, ex: Exchange) -> ConfigError:
    ended = " (the session was ended on the server)" if "logout" in ex.sent else ""
    return ConfigError(f"could not forget the session for {name}{ended}: {exc.message}")


def check_token(
    deps: Deps, name: str, env: Environment, stored: Session | None
) -> dict[str, object]:
    """Ask NAME's API whether the token in use ($NEXLA_ACCESS_TOKEN, else the stored one)
    is accepted (GET /users/current)."""
    override = session.access_token_override(deps)
    token = override or (stored.access_token if stored else None)
    if token is None:
        return {"accepted": False, "reason": "not signed in"}
    api_url = (
        session.api_url_for(deps, env, name)
        if override
        else session.url_for_stored_credentials(deps, env, name)[0]
    )
    try:
        deps.client(api_url).current_user(token)
    except AuthError:
        return {"accepted": False, "reason": "the server rejected the token"}
    return {"accepted": True}
