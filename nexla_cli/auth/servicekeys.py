"""Minting a session from a service key (`token from-key`), and where a saved key is kept."""

from __future__ import annotations

import contextlib

from nexla_cli.auth import storedsessions
from nexla_cli.auth.exchange import Exchange, answer_not_stored, exchange
from nexla_cli.core import identities, settings
from nexla_cli.core.errors import AuthError, ConfigError, NexlaError
from nexla_cli.core.model import Session, session_from_token_response
from nexla_cli.storage import keys
from nexla_cli.storage.store import Environment, Identity, StoreData, identity_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nexla_cli.auth.sessiondeps import SessionDeps


def key_target(deps: SessionDeps, explicit_env: str | None) -> str:
    """The environment `token from-key` mints for: --env, $NEXLA_ENV, else the current one.

    Checked before the key is asked for, so nobody types a key only to hear it is useless.
    """
    settings.key_storage(deps.environ)  # a bad $NEXLA_KEY_STORAGE is exit 2 before any read
    return _key_target(deps, explicit_env)[0]


def key_storage_plan(deps: SessionDeps, name: str) -> keys.SavePlan:
    """Where `token from-key --save-key` will keep NAME's key; exit 3 (nothing sent) when it
    cannot be kept as $NEXLA_KEY_STORAGE asks."""
    return keys.plan_save(deps.keyring, name, deps.store.path)


def mint_from_key(
    deps: SessionDeps,
    explicit_env: str | None,
    service_key: str,
    *,
    save_key: bool,
    key_storage: keys.SavePlan | None = None,
) -> tuple[str, Session, list[str]]:
    """POST /token with the key and store the session; returns (env name, session, notes).

    An environment named with --env or $NEXLA_ENV that is not configured is added; it
    becomes current only when none is. The request is made under the lock, with room for
    the answer reserved first, so the session minted is the one stored. With save_key,
    where the key goes (`key_storage`, from key_storage_plan) is settled before anything
    is sent.
    """
    name, data = _key_target(deps, explicit_env)
    if save_key and (key_storage is None or key_storage.name != name):
        key_storage = key_storage_plan(deps, name)
    if save_key and key_storage is not None:
        key_storage.check_fits(service_key)  # before anything is sent or written
    named = storedsessions.choose_env(deps, None, explicit_env).name is not None
    existed = name in data.environments
    notes: list[str] = []
    fresh_machine = not deps.store.path.parent.exists()
    try:
        with exchange(
            deps,
            done="once the new session was stored",
            recover_corrupt=True,
            if_unwritten=lambda exc, _: answer_not_stored(name, exc),
        ) as ex:
            env = ex.data.environments.get(name)
            if env is None and existed and not named:
                # It was the current environment, and another command removed it since.
                raise ConfigError(
                    f"{name} was removed meanwhile; nothing was sent",
                    hint=f"`nexla token from-key --env {name}` adds it again",
                )
            minted = _mint_and_store(deps, ex, name, env, service_key, notes)
            _settle_saved_key(deps, ex, name, service_key, key_storage if save_key else None, notes)
    except NexlaError:
        if fresh_machine:
            _undo_config_dir(deps)
        raise
    if save_key:
        assert key_storage is not None
        if key_storage.warning:
            deps.notices.warn(key_storage.warning)
        notes.append(f"Saved the service key for {name} {key_storage.describe()}.")
    return name, minted, notes


def _mint_and_store(
    deps: SessionDeps,
    ex: Exchange,
    name: str,
    env: Environment | None,
    service_key: str,
    notes: list[str],
) -> Session:
    """POST /token with the key, room reserved first; the session becomes NAME's (which is
    added when new, and made current when none is)."""
    api_url = storedsessions.own_api_url(env, name)
    ex.reserve()
    ex.sending("mint")
    asked_at = deps.now()  # the lifetime counts from the asking (renewal.py says why)
    try:
        body = deps.client(api_url).mint(service_key)
    except AuthError:
        raise AuthError(f"the service key was rejected by {name}; nothing was changed") from None
    minted = session_from_token_response(body, "service_key", asked_at)
    data = ex.data
    if env is None:
        env = data.environments[name] = Environment(api_url)
        notes.append(f"Added environment {name}.")
    if not data.current:
        data.current = name
    # The identity the server named (the key's user in the key's org) gets the session and
    # becomes active; every other identity is left as it was.
    identity = env.find(identity_key(minted))
    if identity is None:
        identity = Identity()
        if env.identities():
            label = identities.label_of(minted.user, minted.org)
            notes.append(f"Added {label} to {name}; it is now active there.")
    identity.session = minted
    env.activate(identity)
    return minted


def _settle_saved_key(
    deps: SessionDeps,
    ex: Exchange,
    name: str,
    service_key: str,
    key_storage: keys.SavePlan | None,
    notes: list[str],
) -> None:
    """After a mint with `service_key`: save it as `key_storage` plans (--save-key), or
    keep the one saved for this identity, or forget that the saved one was refused.

    `env` here is the identity the key minted for (the active one now): the key saved for
    it is the same user's in the same org, so it is kept, whichever key it is.
    """
    env = ex.data.environments[name].active
    if key_storage is not None:
        session = env.session
        assert session is not None
        user_id, org_id = identity_key(session)
        # a key saved anew: no refusal
        ex.save_key(key_storage.for_identity(user_id, org_id), env, service_key)
    elif keys.is_saved(env) and keys.holds(deps.keyring, env, name, service_key):
        storedsessions.clear_key_refusal(env)  # a fresh sign-in by key


def _undo_config_dir(deps: SessionDeps) -> None:
    """A failed first command leaves no trace: the directory it made only to lock and
    reserve is removed again (unless another command has stored something there)."""
    store = deps.store
    if store.path.exists():
        return
    with contextlib.suppress(OSError):
        store.lock_path.unlink()
        store.path.parent.rmdir()


def _key_target(deps: SessionDeps, explicit_env: str | None) -> tuple[str, StoreData]:
    data = storedsessions.load_or_set_aside(deps)  # starting over: an unparseable file is set aside
    if not storedsessions.choose_env(deps, data, explicit_env).name:
        raise ConfigError(
            "no environment to mint a session for",
            hint="name it: `nexla token from-key --env HOST` (or set NEXLA_ENV)",
        )
    name = storedsessions.resolve_env_name(deps, data, explicit_env, must_exist=False)
    storedsessions.refuse_override_for_storing(deps, name, data.environments.get(name), "minted")
    return name, data
