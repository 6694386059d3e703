"""`nexla env …`: sign in per environment and manage the environments."""

from typing import Annotated, Any, Dict, List, Optional, Tuple

import typer

from nexla_cli.auth import environments, signin, storedsessions
from nexla_cli.cli.commands.common import (
    Command,
    EnvOption,
    Group,
    JsonOption,
    OrgOption,
    UserOption,
    check_api_accepts_connections,
    check_host_resolves,
    check_token,
    complete_env_names,
    describe_expiry,
    describe_impersonator,
    describe_source,
    describe_user,
    iso_utc,
    mask_token,
    open_browser,
    prompt_host,
    prompt_secret,
    read_secret_line_from_stdin,
    stdin_is_terminal,
)
from nexla_cli.core import identities, names
from nexla_cli.core.errors import (
    AuthError,
    ConfigError,
    NetworkError,
    UsageError,
    network_hint,
)
from nexla_cli.core.model import Session
from nexla_cli.deps import Deps
from nexla_cli.http import client
from nexla_cli.storage import keys
from nexla_cli.storage.store import CorruptStore, Environment, Identity, StoreData

env_app = typer.Typer(
    cls=Group, help="Sign in to Nexla environments and manage them.", no_args_is_help=True
)

NoBrowserOption = Annotated[
    bool, typer.Option("--no-browser", help="Print the token page link; do not open a browser.")
]
WithTokenOption = Annotated[
    bool, typer.Option("--with-token", help="Read the token from stdin (first non-empty line).")
]
NoVerifyOption = Annotated[
    bool, typer.Option("--no-verify", help="Store the token without checking it with the server.")
]
EnvNameArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="Environment name.", autocompletion=complete_env_names)
]


@env_app.command(
    "configure", cls=Command, short_help="Add an environment, sign in to it, make it current."
)
def env_configure(
    ctx: typer.Context,
    host: Annotated[
        Optional[str],
        typer.Argument(
            metavar="[HOST]",
            help="The Nexla UI host, e.g. dataops.nexla.io.",
            # TAB offers the environments already configured, never files.
            autocompletion=complete_env_names,
        ),
    ] = None,
    api_url: Annotated[
        Optional[str],
        typer.Option(
            "--api-url", metavar="URL", help="API base URL (default https://HOST/nexla-api)."
        ),
    ] = None,
    no_browser: NoBrowserOption = False,
    with_token: WithTokenOption = False,
    no_verify: NoVerifyOption = False,
) -> None:
    """Add or update an environment, sign in to it, and make it current.

    Asks for the Nexla host when HOST is not given, opens the browser on its token page
    (https://HOST/token), reads the token you copy there and paste at the prompt without
    showing it, and checks it with one call to the API before saving it. With --with-token,
    or a token piped to stdin, no browser opens and the token is read from stdin.

    \b
    Examples:
      nexla env configure
      nexla env configure dataops.nexla.io
      nexla env configure dataops.nexla.io --no-browser
      nexla env configure dataops.nexla.io --with-token < token.txt
    """
    run_env_configure(
        ctx.obj,
        host,
        api_url=api_url,
        no_browser=no_browser,
        with_token=with_token,
        no_verify=no_verify,
    )


def run_env_configure(
    deps: Deps,
    host: Optional[str],
    *,
    api_url: Optional[str] = None,
    no_browser: bool = False,
    with_token: bool = False,
    no_verify: bool = False,
) -> None:
    # Bad arguments are refused before anything is read, stored or sent.
    if host is None and not stdin_is_terminal(deps):
        raise UsageError(
            "HOST is required when stdin is not a terminal (the host is never read from a pipe)",
            hint="nexla env configure dataops.nexla.io --with-token < token.txt",
        )
    name = names.normalize_env_name(host) if host is not None else None
    if api_url is not None:
        api_url = names.normalize_api_url(api_url)
    storedsessions.warn_if_access_token_override(deps)
    known = storedsessions.load_or_set_aside(deps)
    if name is None:
        # The list helps choose a host; once one is given it would only be noise.
        _print_available_environments(deps, known)
        name = names.normalize_env_name(prompt_host(deps))
    pipe_hint = f"pipe it in: nexla env configure {name} --with-token < token.txt"
    check_url = None if no_verify else signin.check_url(deps, name, api_url)
    token = _obtain_token(
        deps, name, check_url, with_token=with_token, no_browser=no_browser, pipe_hint=pipe_hint
    )
    _sign_in(deps, name, token, api_url=api_url, verify=not no_verify, make_current=True)


@env_app.command(
    "login", cls=Command, short_help="Sign in again; which environment is current stays."
)
def env_login(
    ctx: typer.Context,
    env: EnvOption = None,
    no_browser: NoBrowserOption = False,
    with_token: WithTokenOption = False,
    no_verify: NoVerifyOption = False,
) -> None:
    """Sign in again to an environment: the current one, or the one named with --env.

    As `env configure` does, it opens the browser on the token page, reads the pasted token
    without showing it and checks it with the API. Which environment is current does not
    change.

    \b
    Examples:
      nexla env login
      nexla env login --env beta.nexla.com --no-browser
      nexla env login --with-token < token.txt
    """
    run_env_login(ctx.obj, env, no_browser=no_browser, with_token=with_token, no_verify=no_verify)


def run_env_login(
    deps: Deps,
    env: Optional[str],
    *,
    no_browser: bool = False,
    with_token: bool = False,
    no_verify: bool = False,
) -> None:
    storedsessions.warn_if_access_token_override(deps)
    name, current = _login_env_name(deps, env)
    if name == current:
        deps.out.info(f"Current Environment: {name}")
    elif current:
        deps.out.info(f"Signing in to {name} (the current environment stays {current}).")
    else:
        deps.out.info(f"Signing in to {name}.")
    pipe_hint = f"pipe it in: nexla env login --env {name} --with-token < token.txt"
    check_url = None if no_verify else signin.check_url(deps, name, None)
    token = _obtain_token(
        deps, name, check_url, with_token=with_token, no_browser=no_browser, pipe_hint=pipe_hint
    )
    _sign_in(deps, name, token, api_url=None, verify=not no_verify, make_current=False)


def _login_env_name(deps: Deps, env: Optional[str]) -> Tuple[str, Optional[str]]:
    """The environment to sign in to, and the current one. An unparseable store is set aside
    first (kept, named); signing in then goes on only if the environment is named, since the
    current one was recorded in the file set aside."""
    try:
        data = storedsessions.load(deps)
    except CorruptStore:
        storedsessions.load_or_set_aside(deps)
        named = storedsessions.choose_env(deps, None, env).name
        if not named:
            raise ConfigError(
                "no environment is current: it was recorded in the file set aside",
                hint="`nexla env login --env NAME` or `nexla env configure HOST` signs in afresh",
            ) from None
        return names.normalize_env_name(named), None
    return storedsessions.resolve_env_name(deps, data, env), data.current


def _print_available_environments(deps: Deps, data: StoreData) -> None:
    if not data.environments:
        return  # a first sign-in: an empty list would only puzzle
    deps.out.info("Available Environments:")
    for name in sorted(data.environments):
        deps.out.info(f"- {name}" + (" *" if name == data.current else ""))


def _obtain_token(
    deps: Deps,
    name: str,
    check_url: Optional[str],
    *,
    with_token: bool,
    no_browser: bool,
    pipe_hint: str,
) -> str:
    """The token from a pipe, else typed at the terminal (hidden) after the browser and link.

    Before anyone is asked to paste, what would make the paste useless is ruled out: a CA
    bundle that is not there, a host that cannot be found, an API (at check_url, the one
    the token will be checked with; None with --no-verify) that takes no connection.
    """
    if not stdin_is_terminal(deps):
        piped = read_secret_line_from_stdin(deps, "token")
        return check_token(piped, name, source="given on stdin")
    client.check_ca_bundle(deps.environ)
    check_host_resolves(deps, name)
    if check_url is not None:
        check_api_accepts_connections(deps, check_url)
    if not with_token:
        link = names.token_page_url(name)
        if not no_browser:
            open_browser(deps, link)
        # Shown even when quiet: without the link there is nothing to paste.
        deps.out.tell("If your browser didn't open, please go to the following link:")
        deps.out.tell(link)
    # With --with-token at a terminal: no browser and no link, but never echoed either.
    return prompt_secret(
        deps,
        "Enter ACCESS TOKEN:",
        "token",
        pipe_hint=pipe_hint,
        check=lambda typed: check_token(typed, name, source="pasted"),
    )


def _sign_in(
    deps: Deps, name: str, token: str, *, api_url: Optional[str], verify: bool, make_current: bool
) -> None:
    signed_in, added = signin.sign_in_with_token(
        deps, name, token, api_url=api_url, verify=verify, make_current=make_current
    )
    expiry = describe_expiry(signed_in, deps.now())
    if not verify:
        deps.out.info(
            f"Saved the token for {name} without checking it (--no-verify); the first command "
            f"that uses it will tell whether the server accepts it. Session {expiry}."
        )
        return
    who = describe_user(signed_in.user, signed_in.org)
    deps.out.info(f"Signed in to {name} as {who}; session {expiry}.")
    if added and len(signin.identities_on(deps, name)) > 1:
        identity = identities.label_of(signed_in.user, signed_in.org)
        deps.out.info(
            f"Added {identity} to {name}; it is now active there (the others stay signed in: "
            "`nexla env list`)."
        )


@env_app.command("list", cls=Command, short_help="List the environments and who is signed in.")
def env_list(
    ctx: typer.Context,
    as_json: JsonOption = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Ask each environment's server, all at once, whether its token works."
        ),
    ] = False,
) -> None:
    """List the environments, who is signed in to each and when the session expires.

    The current environment is marked with *. Nothing is sent to the server, unless with
    --check: then each signed-in environment's token is sent to its server (GET
    /users/current, all at once) and shown as valid, rejected or unreachable, with where the
    token came from. Exit 4 when any was rejected, else 5 when any was unreachable.

    \b
    Examples:
      nexla env list
      nexla env list --check
      nexla env list --json | jq -r '.[].name'
    """
    run_env_list(ctx.obj, as_json=as_json, check=check)


def run_env_list(deps: Deps, *, as_json: bool = False, check: bool = False) -> None:
    data = storedsessions.load(deps)
    out = deps.out
    now = deps.now()
    rows = []
    for name in sorted(data.environments):
        env = data.environments[name]
        rows.append((name, name == data.current, env, env.session))
    checks: Dict[Tuple[str, Any], Dict[str, Any]] = {}
    if check:
        checks = environments.check_environments(deps, data)
    if as_json:
        listing = []
        for name, current, env, stored in rows:
            entry = _env_json(name, current, env, stored, now)
            if check:
                entry.update(_check_json(_active_check(checks, name, env)))
                for each, listed in zip(env.identities(), entry["identities"], strict=True):
                    listed.update(_check_json(checks.get((name, each))))
            listing.append(entry)
        out.json_result(listing)
    elif not rows:
        out.info("No environments configured; run `nexla env configure`.")
    else:
        width = max(len(name) for name, *_ in rows)
        for name, current, env, stored in rows:
            marker = "*" if current else " "
            detail = _list_detail(stored, now, _active_check(checks, name, env))
            out.display(f"{marker} {name.ljust(width)}  {detail}")
            for other in env.others:
                found = checks.get((name, other))
                out.display(f"  {' ' * width}  + {_other_detail(other, now, found)}")
    if check:
        _raise_for_checks(checks, data)


def _active_check(
    checks: Dict[Tuple[str, Any], Dict[str, Any]], name: str, env: Environment
) -> Optional[Dict[str, Any]]:
    """The check of NAME's active identity (or of $NEXLA_ACCESS_TOKEN's token)."""
    found = checks.get((name, None))
    return found if found is not None else checks.get((name, env.active))


def _list_detail(stored: Optional[Session], now: float, found: Optional[Dict[str, Any]]) -> str:
    if stored is None:
        detail = "not signed in"
    else:
        detail = f"{describe_user(stored.user, stored.org)}, {describe_expiry(stored, now)}"
    if found is not None:
        detail += f"  [{_describe_check(found)}]"
    return detail


def _other_detail(identity: Identity, now: float, found: Optional[Dict[str, Any]]) -> str:
    """An identity that is not active, on its own line below its environment's."""
    stored = identity.session_unless_damaged()
    if stored is None and identity.session_damaged:
        return "an identity whose session cannot be read"
    if stored is None:
        return "an identity with a saved service key and no session"
    detail = f"{_identity_label(stored)}, {describe_expiry(stored, now)}"
    if found is not None:
        detail += f"  [{_describe_check(found)}]"
    return detail


def _describe_check(result: Dict[str, Any]) -> str:
    """`valid, token pasted`, `unreachable: timed out …, token from NEXLA_ACCESS_TOKEN`."""
    source = result["token_source"]
    if source == storedsessions.ACCESS_TOKEN_VARIABLE:
        whence = f"token from {source}"
    else:
        whence = f"token {describe_source(source)}"
    status = result["status"]
    if result.get("error"):
        status += f": {result['error']}"
    return f"{status}, {whence}"


def _check_json(result: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    if result is None:
        return {"check": None, "check_error": None, "token_source": None}
    return {
        "check": result["status"],
        "check_error": result["error"],
        "token_source": result["token_source"],
    }


def _raise_for_checks(checks: Dict[Tuple[str, Any], Dict[str, Any]], data: StoreData) -> None:
    from nexla_cli.auth.environments import REJECTED, UNREACHABLE

    def named(status: str) -> List[Tuple[str, Any]]:
        return [where for where, result in checks.items() if result["status"] == status]

    def listed(found: List[Tuple[str, Any]]) -> str:
        return ", ".join(dict.fromkeys(name for name, _ in found))

    rejected, unreachable = named(REJECTED), named(UNREACHABLE)
    if rejected:
        also = f" ({listed(unreachable)} could not be reached)" if unreachable else ""
        name, who = rejected[0]
        env = data.environments.get(name)
        raise AuthError(
            f"the server rejected the token of {listed(rejected)}{also}",
            hint=_hint_for(name, env, who),
        )
    if unreachable:
        # The reasons are on the listing's lines; the hint follows them (a CA, or waiting).
        reasons = " ".join(str(checks[where].get("error") or "") for where in unreachable)
        raise NetworkError(
            f"could not reach the server of {listed(unreachable)}", hint=network_hint(reasons)
        )


def _hint_for(name: str, env: Optional[Environment], checked: Optional[Identity]) -> str:
    """The hint for the identity whose token was checked (None: $NEXLA_ACCESS_TOKEN's)."""
    identity = checked if checked is not None else (env.find(None) if env else None)
    return storedsessions.session_hint(name, env, identity)


def _env_json(
    name: str,
    current: bool,
    env: Environment,
    stored: Optional[Session],
    now: float,
    identity: Optional[Identity] = None,
) -> Dict[str, Any]:
    """One environment, its fields those of `identity` (default: the active one), with
    every identity listed in `identities`."""
    holder = identity if identity is not None else env.active
    data = {
        "name": name,
        "current": current,
        "ui_url": names.ui_url(name),
        "api_url": env.api_url,
        "signed_in": stored is not None,
        "user": stored.user if stored else None,
        "org": stored.org if stored else None,
        "source": stored.source if stored else None,
        "obtained_at": iso_utc(stored.obtained_at) if stored else None,
        "expires_at": iso_utc(stored.expires_at) if stored else None,
        "expires_estimated": stored.expires_estimated if stored else None,
        "expiry_source": stored.expiry_source if stored else None,
        "expired": stored.is_expired(now) if stored else None,
        "service_key_saved": keys.is_saved(holder),
        # "keyring", "file" or null: where a saved key is (never the key itself).
        "service_key_location": keys.location(holder),
        "identity": _identity_label(stored),
        "identities": [_identity_json(each, each is env.active, now) for each in env.identities()],
    }
    return data


def _identity_label(stored: Optional[Session]) -> Optional[str]:
    return identities.label_of(stored.user, stored.org) if stored is not None else None


def _identity_json(identity: Identity, active: bool, now: float) -> Dict[str, Any]:
    """One identity for --json: who, in which org, whether active, its session's state."""
    stored = identity.session_unless_damaged()
    return {
        "identity": _identity_label(stored),
        "active": active,
        "user": stored.user if stored else None,
        "org": stored.org if stored else None,
        "source": stored.source if stored else None,
        "expires_at": iso_utc(stored.expires_at) if stored else None,
        "expired": stored.is_expired(now) if stored else None,
        "session_damaged": identity.session_damaged,
        "service_key_saved": keys.is_saved(identity),
        "service_key_location": keys.location(identity),
    }


@env_app.command("use", cls=Command, short_help="Make NAME the current environment.")
def env_use(
    ctx: typer.Context, name: EnvNameArgument, org: OrgOption = None, user: UserOption = None
) -> None:
    """Make NAME the current environment: the one commands act on without --env.

    With --org (and --user), also make that identity the active one on NAME: the one
    commands use there without --org. $NEXLA_ENV and $NEXLA_ORG, when set, still win.

    \b
    Examples:
      nexla env use dataops.nexla.io
      nexla env use localhost:8443
      nexla env use dataops.nexla.io --org acme
    """
    deps: Deps = ctx.obj
    chosen, identity = environments.use_env(deps, name, org, user)
    deps.out.info(f"Current Environment: {chosen}")
    if identity:
        deps.out.info(f"Active identity on {chosen}: {identity}")


@env_app.command("show", cls=Command, short_help="Show one environment in full.")
def env_show(
    ctx: typer.Context,
    env: EnvOption = None,
    as_json: JsonOption = False,
    check: Annotated[
        bool, typer.Option("--check", help="Ask the server whether the token is still accepted.")
    ] = False,
    org: OrgOption = None,
    user: UserOption = None,
) -> None:
    """Show one environment in full: URLs, user, org, expiry, and the token masked.

    With --check, one call asks the server whether the token is still accepted (exit 4 when
    it is not, or when there is no session to check).

    \b
    Examples:
      nexla env show
      nexla env show --env beta.nexla.com --check
      nexla env show --json
    """
    run_env_show(ctx.obj, env, as_json=as_json, check=check, org=org, user=user)


def run_env_show(
    deps: Deps,
    env: Optional[str],
    *,
    as_json: bool = False,
    check: bool = False,
    org: Optional[str] = None,
    user: Optional[str] = None,
) -> None:
    data = storedsessions.load(deps)
    name = storedsessions.resolve_env_name(deps, data, env)
    environment = data.environments[name]
    record = environment.find(storedsessions.choose_identity(deps, data, name, org, user))
    assert record is not None
    stored = record.session
    details = _env_json(name, name == data.current, environment, stored, deps.now(), record)
    details["token_page"] = names.token_page_url(name)
    details["token"] = mask_token(stored.access_token) if stored else None
    accepted = None
    # Not signed in and no $NEXLA_ACCESS_TOKEN: there is nothing to ask the server about.
    nothing_to_check = stored is None and not storedsessions.access_token_override(deps)
    check_result: Dict[str, Any] = {}
    unreached: Optional[NetworkError] = None
    if check:
        check_result, unreached = _show_check(deps, name, environment, stored, nothing_to_check)
        accepted = check_result["accepted"]
        details["accepted"] = accepted
    if as_json:
        deps.out.json_result(details)
    else:
        _print_show(deps, details, stored, checked=check and not nothing_to_check)
    if unreached is not None:
        raise unreached  # after the environment, as `env list --check` shows its lines
    if check and nothing_to_check:
        raise AuthError(
            f"not signed in to {name}: nothing was checked",
            hint=f"sign in with `nexla env login --env {name}`",
        )
    if check and not accepted:
        reason = check_result.get("reason") or "the token was not accepted"
        raise AuthError(
            f"{name}: {reason}",
            hint=storedsessions.session_hint(name, environment, record),
        )


def _show_check(
    deps: Deps, name: str, record: Environment, stored: Optional[Session], nothing_to_check: bool
) -> Tuple[Dict[str, Any], Optional[NetworkError]]:
    """The server's word on the token ({"accepted": None} when it could not be asked), and
    the error that kept it from being asked."""
    if nothing_to_check:
        return {"accepted": False}, None
    try:
        return environments.check_token(deps, name, record, stored), None
    except NetworkError as exc:
        return {"accepted": None}, exc


def _print_show(
    deps: Deps, details: Dict[str, Any], stored: Optional[Session], *, checked: bool
) -> None:
    lines = [
        ("Environment", details["name"] + (" (current)" if details["current"] else "")),
        ("UI URL", details["ui_url"]),
        ("Token page", details["token_page"]),
        ("API URL", details["api_url"]),
    ]
    if stored is None:
        lines.append(("Session", "not signed in"))
    else:
        lines += [
            (
                "User",
                describe_user(stored.user, impersonation=False)
                + (f" (id {stored.user.get('id')})" if stored.user.get("id") is not None else ""),
            ),
        ]
        if stored.user.get("impersonated"):
            admin = stored.user.get("impersonator") or {}
            lines.append(
                (
                    "Impersonated by",
                    describe_impersonator(stored.user)
                    + (f" (id {admin.get('id')})" if admin.get("id") is not None else ""),
                )
            )
        lines += [
            (
                "Org",
                f"{stored.org.get('name')} (id {stored.org.get('id')})" if stored.org else "none",
            ),
            ("Token", details["token"]),
            ("Source", describe_source(stored.source)),
            ("Obtained", iso_utc(stored.obtained_at)),
            ("Session", describe_expiry(stored, deps.now())),
        ]
    where = details["service_key_location"]
    lines.append(
        ("Service key", f"saved in the {keys.LOCATION_LABELS[where]}" if where else "not saved")
    )
    others = [
        each["identity"]
        for each in details["identities"]
        if each["identity"] != details["identity"]
    ]
    if others:
        lines.append(("Also signed in", "; ".join(str(other) for other in others) + " (--org)"))
    if "accepted" in details and not checked:
        lines.append(("Server check", "not signed in, nothing checked"))
    elif "accepted" in details and details["accepted"] is None:
        lines.append(("Server check", "server not reached, nothing checked (error below)"))
    elif "accepted" in details:
        lines.append(
            ("Server check", "token accepted" if details["accepted"] else "token NOT accepted")
        )
    width = max(len(label) for label, _ in lines) + 1
    for label, value in lines:
        deps.out.display(f"{(label + ':').ljust(width)} {value}")


@env_app.command("logout", cls=Command, short_help="End the session and forget the token.")
def env_logout(
    ctx: typer.Context,
    env: EnvOption = None,
    all_envs: Annotated[
        bool, typer.Option("--all", help="Log out of every environment, every identity.")
    ] = False,
    org: OrgOption = None,
    user: UserOption = None,
) -> None:
    """Log out: end the session on the server, then forget the token and any saved key.

    One identity: the active one, or the one --org (and --user) choose; the others stay
    signed in. The environment stays configured; `nexla env login` signs in to it again.

    \b
    Examples:
      nexla env logout
      nexla env logout --env beta.nexla.com
      nexla env logout --org acme
      nexla env logout --all
    """
    deps: Deps = ctx.obj
    storedsessions.warn_if_access_token_override(deps)
    results = environments.logout(deps, env, all_envs=all_envs, org=org, user=user)
    logged_out = [result.where for result in results if result.had_session]
    signed_out = [result.where for result in results if not result.had_session]
    # One line each, however many identities: the warnings above said what the server missed.
    if logged_out:
        deps.out.info(f"Logged out of {', '.join(logged_out)}.")
    if signed_out:
        deps.out.info(f"Not signed in to {', '.join(signed_out)}.")


@env_app.command("remove", cls=Command, short_help="Log out of NAME and forget it.")
def env_remove(ctx: typer.Context, name: EnvNameArgument) -> None:
    """Log out of NAME and forget the environment.

    When NAME was the current environment and exactly one other remains, that one becomes
    current; otherwise choose one with `nexla env use`.

    \b
    Examples:
      nexla env remove beta.nexla.com
    """
    deps: Deps = ctx.obj
    current_before = environments.current_env(deps)
    removed, current = environments.remove_env(deps, name)
    deps.out.info(f"Removed {removed}.")
    # Which environment is current is news only when the removed one was it.
    if current_before == removed and current:
        deps.out.info(f"Current environment is now {current}.")
    elif current_before == removed:
        deps.out.info("No environment is current now; choose one with `nexla env use NAME`.")
