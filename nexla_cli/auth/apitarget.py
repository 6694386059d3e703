"""Where a call to the API goes, and with which token: `nexla api` and the hand-off to
other tools (`token export`, `token exec`) share this."""

from __future__ import annotations

from nexla_cli.auth import renewal, storedsessions
from nexla_cli.core.errors import ConfigError
from nexla_cli.storage.store import StoreData

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nexla_cli.auth.sessiondeps import SessionDeps
    from nexla_cli.auth.storedsessions import Key


class ApiTarget:
    """Where `nexla api` sends its calls, and the token it sends.

    The stored token is looked at (and refreshed or re-minted when due) only when first
    needed, so a call refused for its own reasons (a URL outside the base) makes no request.
    A token from $NEXLA_ACCESS_TOKEN is used as it is and never renewed.
    """

    def __init__(
        self,
        name: str | None,
        api_url: str,
        deps: SessionDeps,
        token: str | None = None,
        data: StoreData | None = None,
        who: Key | None = None,
    ) -> None:
        self.deps = deps
        #: The identity whose token is sent (None: the active one).
        self.who = who
        self.name = name
        self.api_url = api_url
        self.from_variable = token is not None
        self._token = token
        self._data = data

    @property
    def renewable(self) -> bool:
        return self.name is not None and not self.from_variable

    def token(self) -> str:
        if self._token is None:
            assert self.name is not None and self._data is not None
            self._token = renewal.usable_session(
                self.deps, self._data, self.name, who=self.who
            ).access_token
        return self._token

    def refused_hint(self) -> str:
        """What to do when the API refuses the stored session even after renewing it."""
        assert self.name is not None
        env = self._data.environments.get(self.name) if self._data is not None else None
        identity = env.find(self.who) if env else None
        return storedsessions.session_hint(self.name, env, identity)

    def renew_after_rejection(self) -> str:
        """After a 401: refresh, or re-mint from a saved key, and return the new token."""
        assert self.name is not None and self._token is not None
        self._token = renewal.renew_after_rejection(
            self.deps, self.name, self._token, self.who
        ).access_token
        return self._token


def api_target(
    deps: SessionDeps,
    explicit_env: str | None,
    *,
    org: str | None = None,
    user: str | None = None,
) -> ApiTarget:
    """The environment's API base URL ($NEXLA_API_URL wins) and its token source."""
    override = storedsessions.access_token_override(deps)
    data = storedsessions.load(deps)
    if override and not storedsessions.choose_env(deps, data, explicit_env).name:
        if not storedsessions.api_url_override(deps):
            raise ConfigError(
                f"{storedsessions.ACCESS_TOKEN_VARIABLE} is set but no environment is "
                "configured or current, so the API URL is unknown",
                hint="set NEXLA_API_URL (e.g. https://dataops.nexla.io/nexla-api) or pass --env",
            )
        return ApiTarget(None, storedsessions.api_url_for(deps, None, ""), deps, override)
    name = storedsessions.resolve_env_name(deps, data, explicit_env)
    env = data.environments[name]
    # The stored token (and, to renew it, the saved key) goes only to the environment's
    # own API host; a token from the variable may go anywhere.
    api_url = (
        storedsessions.api_url_for(deps, env, name)
        if override
        else storedsessions.url_for_stored_credentials(deps, env, name)[0]
    )
    who = None if override else storedsessions.choose_identity(deps, data, name, org, user)
    if who is None and not override:
        who = env.active.key
    return ApiTarget(name, api_url, deps, override, data=data, who=who)
