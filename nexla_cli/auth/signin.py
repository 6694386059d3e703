"""Signing in with a pasted token: check it with the API, then store it as the session."""

from __future__ import annotations

from nexla_cli.auth import storedsessions
from nexla_cli.auth.exchange import exchange
from nexla_cli.core import names
from nexla_cli.core.errors import AuthError, ConfigError, NetworkError
from nexla_cli.core.model import Session, org_summary, pasted_token_expiry, user_summary
from nexla_cli.storage.store import CorruptStore, Environment, Identity, identity_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nexla_cli.auth.sessiondeps import SessionDeps
    from nexla_cli.core.model import JsonObject


def sign_in_with_token(
    deps: SessionDeps,
    name: str,
    token: str,
    *,
    api_url: str | None,
    verify: bool,
    make_current: bool,
) -> tuple[Session, bool]:
    """Validate a pasted token (one GET /users/current) and store it as NAME's session.

    The session joins the identity the server names (its user in its org): it replaces
    that identity's session only, keeps the key saved for it, and the identity becomes
    the active one; every other identity is left as it was. Returns the session and
    whether the identity is new to NAME.
    """
    existing = _peek_env(deps, name)
    if not api_url:
        # The token is checked where it will be used: NAME's own API.
        storedsessions.refuse_override_for_storing(deps, name, existing, "checked")
    call_url = api_url or storedsessions.api_url_for(deps, existing, name)
    user: JsonObject = {}
    org: JsonObject | None = None
    if verify:
        try:
            who = deps.client(call_url).current_user(token)
        except AuthError:
            raise AuthError(
                f"the token was rejected by {name}; nothing was saved",
                # A service key pasted at the token prompt ends here too.
                hint=f"copy a fresh token from {names.token_page_url(name)}; a service key "
                f"is not a token: sign in with it by `nexla token from-key --env {name}`",
            ) from None
        except NetworkError as exc:
            raise NetworkError(
                f"could not check the token with {name}: {exc.message}; nothing was saved",
                exc.hint,
            ) from None
        user, org = user_summary(who["user"]), org_summary(who["org"])
    now = int(deps.now())
    # A JWT states its expiry; any other token's lifetime is estimated.
    expires_at, estimated = pasted_token_expiry(token, now)
    signed_in = Session(
        access_token=token,
        obtained_at=now,
        expires_at=expires_at,
        expires_estimated=estimated,
        source="pasted",
        user=user,
        org=org,
    )
    added = _store(deps, name, existing, signed_in, api_url=api_url, make_current=make_current)
    return signed_in, added


def check_url(deps: SessionDeps, name: str, api_url: str | None) -> str:
    """The API URL a pasted token for NAME will be checked with (sign_in_with_token)."""
    return api_url or storedsessions.api_url_for(deps, _peek_env(deps, name), name)


def _store(
    deps: SessionDeps,
    name: str,
    existing: Environment | None,
    signed_in: Session,
    *,
    api_url: str | None,
    make_current: bool,
) -> bool:
    """Store `signed_in` as the session of its identity on NAME, made active; whether that
    identity is new to NAME."""
    with exchange(deps, done="once the session was stored", recover_corrupt=True) as ex:
        data = ex.data
        # Re-read under the lock: another command may have changed NAME meanwhile, and
        # only the session (and --api-url when given) is this command's to change.
        env = data.environments.get(name)
        if env is None:
            if existing is not None and not make_current:
                raise ConfigError(
                    f"{name} was removed while signing in; nothing was saved",
                    hint=f"`nexla env configure {name}` adds it again",
                )
            env = data.environments[name] = Environment(api_url or names.default_api_url(name))
        elif api_url:
            env.api_url = api_url
        identity = env.find(identity_key(signed_in))
        added = identity is None
        if identity is None:
            identity = Identity()
        # Its saved key (the same user in the same org) stays; another identity's key
        # never re-mints this one's sessions, as it lives in that identity.
        identity.session = signed_in
        # A sign-in forgets that the key was refused (docs/sessions.md): it may be tried
        # again when this session runs out.
        storedsessions.clear_key_refusal(identity)
        env.activate(identity)
        if make_current:
            data.current = name
    return added


def _peek_env(deps: SessionDeps, name: str) -> Environment | None:
    """The stored environment, if readable; a corrupt store is dealt with when writing."""
    try:
        return storedsessions.load(deps).environments.get(name)
    except CorruptStore:
        return None


def identities_on(deps: SessionDeps, name: str) -> list[Identity]:
    """NAME's identities as stored now (none when it cannot be read)."""
    env = _peek_env(deps, name)
    return env.identities() if env is not None else []
