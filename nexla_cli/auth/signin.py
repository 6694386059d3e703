"""Signing in with a pasted token: check it with the API, then store it as the session."""

from __future__ import annotations

from nexla_cli.auth import storedsessions
from nexla_cli.auth.exchange import exchange
from nexla_cli.core import names
from nexla_cli.core.errors import AuthError, ConfigError, NetworkError
from nexla_cli.core.model import Session, org_summary, pasted_token_expiry, user_summary
from nexla_cli.storage.store import CorruptStore, Environment

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

    Returns the session and whether a saved service key was dropped.
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
    dropped_key = _store(
        deps, name, existing, signed_in, api_url=api_url, make_current=make_current
    )
    return signed_in, dropped_key


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
    """Store `signed_in` as NAME's session; whether a saved service key was dropped."""
    # Nothing sent changes the server; the exchange still owns forgetting the saved key.
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
        # A key minted for one identity must never re-mint after another signed in.
        dropped_key = ex.forget_key(env, name)
        env.session = signed_in
        if make_current:
            data.current = name
    return dropped_key


def _peek_env(deps: SessionDeps, name: str) -> Environment | None:
    """The stored environment, if readable; a corrupt store is dealt with when writing."""
    try:
        return storedsessions.load(deps).environments.get(name)
    except CorruptStore:
        return None
