"""The stored sessions, and what every operation on them shares: reading the store,
choosing the environment, the identity on it (one user in one org: core/identities.py) and
the API it is reached at, where a stored token or key may be sent, and what is remembered
about a saved key.

(A `model.Session` is one stored session record; this module is about the store of them.)

The operations live beside this module, one job each: signin.py (a pasted token),
renewal.py (refresh when due, single-flight across processes), servicekeys.py (minting from
a service key), environments.py (use, logout, remove, check). All of them take the run's
SessionDeps (deps.py) and say what the user should hear through `deps.notices`, never a stream.
"""

from __future__ import annotations

from nexla_cli.core import envchoice, identities, names, settings
from nexla_cli.core.errors import LOGIN_HINT, AuthError, ConfigError, UsageError
from nexla_cli.core.model import Session
from nexla_cli.storage.store import CorruptStore, Environment, Identity, StoreData

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nexla_cli.auth.sessiondeps import SessionDeps

ACCESS_TOKEN_VARIABLE = settings.ACCESS_TOKEN_VARIABLE
API_URL_VARIABLE = settings.API_URL_VARIABLE


# Reading the store ------------------------------------------------------------------------


def load(deps: SessionDeps) -> StoreData:
    """The stored data; CorruptStore (exit 3) when the file cannot be parsed."""
    return deps.store.load()


def load_or_set_aside(deps: SessionDeps) -> StoreData:
    """The stored data; for commands that start over or forget, a file that cannot be parsed
    is moved aside first (kept 0600, named in a notice) and an empty store takes its place."""
    try:
        return load(deps)
    except CorruptStore:
        with deps.store.transaction(recover_corrupt=True) as data:
            pass
        return data


def require_session(data: StoreData, name: str, who: Key | None = None) -> Session:
    """The stored session of NAME's identity `who` (None: the active one): AuthError when
    not signed in, CorruptStore when it is damaged (the one policy for a damaged session:
    see store.py)."""
    identity = data.environments[name].find(who)
    session = identity.session if identity is not None else None
    if session is None:
        others = data.environments[name].identities()
        if who is None and others:
            raise AuthError(
                f"no identity is active on {name}",
                hint="choose one with --org ORG, or make one active with "
                f"`nexla env use {name} --org ORG`: "
                + "; ".join(label(each) for each in others[: identities.LISTED_AT_MOST])
                + (
                    f"; and {len(others) - identities.LISTED_AT_MOST} more (see `nexla env list`)"
                    if len(others) > identities.LISTED_AT_MOST
                    else ""
                ),
            )
        raise AuthError(
            f"not signed in to {name}",
            hint=f"run `nexla env login --env {name}` or `nexla token from-key --env {name}`",
        )
    return session


# Choosing the identity -----------------------------------------------------------------

Key = tuple[object, object]


def label(identity: Identity) -> str:
    """`ada@example.com in Acme (org 7)`: how messages name an identity."""
    session = identity.session_unless_damaged()
    if session is None and identity.session_damaged:
        return "an identity whose session cannot be read"
    if session is None:
        return "an identity with a saved service key and no session"
    return identities.label_of(session.user, session.org)


def identity_shown(env: Environment, who: Key | None) -> str:
    """The label messages add for identity `who` (None: the active one) where `env` holds
    several identities; empty where it holds one, whose environment says enough."""
    if len(env.identities()) < 2:
        return ""
    identity = env.find(who) if who is not None else env.active
    return label(identity) if identity is not None else ""


def candidates(env: Environment) -> list[identities.Candidate]:
    """The identities that can be chosen: those whose session says who they are."""
    found = []
    for identity in env.identities():
        session = identity.session_unless_damaged()
        if session is not None:
            found.append(identities.Candidate.of(session.user, session.org))
    return found


def choose_identity(
    deps: SessionDeps, data: StoreData, name: str, org: str | None, user: str | None
) -> Key | None:
    """--org/--user, else $NEXLA_ORG/$NEXLA_USER, else NAME's active identity: its key."""
    env = data.environments[name]
    return identities.choose(name, candidates(env), env.active.key, org, user, deps.environ)


def identity_of(data: StoreData, name: str, who: Key | None) -> Identity:
    """NAME's identity `who` (None: the active one); ConfigError when it is gone (logged
    out by another command meanwhile)."""
    env = data.environments.get(name)
    identity = env.find(who) if env is not None else None
    if env is None:
        raise ConfigError(f"unknown environment: {name}", hint="see `nexla env list`")
    if identity is None:
        raise AuthError(
            f"that identity was logged out of {name} meanwhile",
            hint=f"see `nexla env list`; sign in again with `nexla env login --env {name}`",
        )
    return identity


# Time ---------------------------------------------------------------------------------------
# When a session is fresh, due or past use is the Session's to say (model.py).


def margin_override(deps: SessionDeps) -> float | None:
    return settings.refresh_margin(deps.environ)


# Choosing the environment -------------------------------------------------------------


def choose_env(deps: SessionDeps, data: StoreData | None, explicit: str | None) -> envchoice.Choice:
    """--env, else $NEXLA_ENV, else the current environment (none without `data`), as given,
    with its source."""
    return envchoice.choose(explicit, deps.environ, data.current if data else None)


def resolve_env_name(
    deps: SessionDeps, data: StoreData, explicit: str | None, *, must_exist: bool = True
) -> str:
    """--env, else $NEXLA_ENV, else the current environment; normalised."""
    choice = choose_env(deps, data, explicit)
    raw = choice.name
    if not raw:
        if data.environments:
            raise ConfigError(
                "no environment is current",
                hint="run `nexla env use NAME` (see `nexla env list`) or pass --env NAME",
            )
        raise ConfigError("no environment is configured", hint="run `nexla env configure`")
    name = names.normalize_env_name(raw)
    if must_exist and name not in data.environments:
        # Named by a variable set long ago, the name may surprise: say where it came from.
        whence = f" (from {choice.source})" if choice.source == envchoice.FROM_VARIABLE else ""
        raise ConfigError(
            f"unknown environment: {name}{whence}",
            hint="see `nexla env list`, or add it with `nexla env configure`",
        )
    return name


# Where the API is -----------------------------------------------------------------------


def api_url_override(deps: SessionDeps) -> str | None:
    raw = settings.raw(API_URL_VARIABLE, deps.environ)
    return names.normalize_api_url(raw) if raw else None


def api_url_for(deps: SessionDeps, env: Environment | None, name: str) -> str:
    """$NEXLA_API_URL (never saved), else the stored URL, else https://NAME/nexla-api."""
    return api_url_override(deps) or own_api_url(env, name)


def own_api_url(env: Environment | None, name: str) -> str:
    """The API URL stored for NAME (its default when none is)."""
    return (env.api_url if env else "") or names.default_api_url(name)


def url_for_stored_credentials(deps: SessionDeps, env: Environment, name: str) -> tuple[str, bool]:
    """Where NAME's stored token or saved key may be sent, and whether $NEXLA_API_URL
    overrides the stored URL for this run.

    The variable changes one run only and is trusted with stored credentials only when it
    names the environment's own API host: anything else is a UsageError naming both hosts,
    raised before anything is sent.
    """
    own = own_api_url(env, name)
    url = api_url_override(deps)
    if not url or url == own:
        return own, False
    if names.host_of(url) != names.host_of(own):
        raise UsageError(
            f"NEXLA_API_URL points at {names.host_of(url)}, but {name} keeps its token and key "
            f"for {names.host_of(own)}; they are never sent to another host, so nothing was sent",
            hint="unset NEXLA_API_URL, or set NEXLA_ACCESS_TOKEN to a token for that host",
        )
    return url, True


def refuse_override_for_storing(
    deps: SessionDeps, name: str, env: Environment | None, what: str
) -> None:
    """A session that will be stored as NAME's must come from NAME's own API: nothing
    learned through $NEXLA_API_URL is stored. UsageError, before anything is sent."""
    own = own_api_url(env, name)
    url = api_url_override(deps)
    if url and url != own:
        raise UsageError(
            f"NEXLA_API_URL is set to another API than {name}'s ({own}), and a session "
            f"{what} through it would not be stored; nothing was sent",
            hint=f"unset NEXLA_API_URL, or give {name} that API URL with "
            f"`nexla env configure {name} --api-url URL`",
        )


# $NEXLA_ACCESS_TOKEN ---------------------------------------------------------------------


def access_token_override(deps: SessionDeps) -> str | None:
    return settings.access_token(deps.environ)  # checked: printable ASCII without spaces


def warn_if_access_token_override(deps: SessionDeps) -> None:
    """Commands that manage the store say that the variable will win elsewhere."""
    if access_token_override(deps):
        deps.notices.warn(
            f"{ACCESS_TOKEN_VARIABLE} is set: it wins over the stored session for "
            "`token print`, `token status`, `env show --check` and `api`"
        )


# Saved service keys ------------------------------------------------------------------------
# Where a key is (file or OS keyring) only keys.py knows; what is remembered about it (that
# the server refused it) is decided here.


def key_refused(env: Identity | Environment) -> bool:
    return env.saved_key is not None and env.saved_key.rejected_at is not None


def usable_saved_key(env: Identity | Environment) -> bool:
    """Whether a key is saved that the server has not refused (a refused one is not sent
    again). Where it is (file or OS keyring) is looked at only to mint."""
    return env.saved_key is not None and env.saved_key.rejected_at is None


def session_hint(name: str, env: Environment | None, identity: Identity | None) -> str:
    """The next step for `identity`'s session on NAME that the server refused or that ran
    out, fitting what is saved. `nexla env login` is offered only when none is saved that
    could be used: with one, `token refresh` mints a new session from it (with `--org ORG`
    where the identity is not the active one of `env`: see org_option).
    """
    if identity is not None and usable_saved_key(identity):
        return (
            f"run `nexla token refresh --env {name}{_org_words(env, identity)}`: it gets a new "
            "session from the saved service key, which stays saved"
        )
    if identity is not None and key_refused(identity):
        return (
            f"save a valid key with `nexla token from-key --env {name} --save-key`, or "
            f"{LOGIN_HINT} (`nexla env login --env {name}`)"
        )
    return f"{LOGIN_HINT} (`nexla env login --env {name}`)"


def refresh_may_revive(session: Session) -> bool:
    """Whether a session past its expiry may still be renewed by a refresh: its expiry was
    only estimated (a pasted token that said nothing of it), and the server has neither
    refused it nor said it offers no refresh. The next use tries, and the server decides."""
    return (
        session.expiry_source == "estimate"
        and not session.rejected
        and not session.refresh_not_offered
    )


def refresh_hint(name: str, env: Environment | None, identity: Identity | None) -> str:
    return (
        f"run `nexla token refresh --env {name}{_org_words(env, identity)}`: its expiry was "
        "only estimated, so the server may still renew it (the next `nexla token print` or "
        "`nexla api` tries too)"
    )


def _org_words(env: Environment | None, identity: Identity | None) -> str:
    """` --org ORG` where a command must name the identity's org, else nothing."""
    org = org_option(env, identity)
    return f" --org {org}" if org is not None else ""


def org_option(env: Environment | None, identity: Identity | None) -> object:
    """What `--org` a hint must name for `identity` of `env`: its org id when it is not the
    active identity (a command without --org would act on another), else None."""
    if env is None or identity is None or identity is env.active:
        return None
    session = identity.session_unless_damaged()
    return (session.org or {}).get("id") if session is not None else None


def mark_key_refused(env: Identity | Environment, now: float) -> None:
    if env.saved_key is not None:
        env.saved_key.rejected_at = int(now)


def clear_key_refusal(env: Identity | Environment) -> None:
    """The server accepted the saved key (or a sign-in replaced what it was refused for)."""
    if env.saved_key is not None:
        env.saved_key.rejected_at = None
