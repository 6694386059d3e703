"""`nexla env …`: sign in per environment and manage the environments."""

import os
from typing import Annotated, Optional

import typer

from nexla_cli import keys, names, output, session
from nexla_cli.commands.common import (
    EnvOption,
    JsonOption,
    check_secret,
    complete_env_names,
    describe_expiry,
    describe_impersonator,
    describe_user,
    iso_utc,
    mask_token,
    open_browser,
    prompt_hidden,
    prompt_visible,
    read_secret_line_from_stdin,
    stdin_is_terminal,
)
from nexla_cli.errors import LOGIN_HINT, AuthError, ConfigError, NetworkError, UsageError
from nexla_cli.model import Session
from nexla_cli.store import CorruptStore, CredentialStore

env_app = typer.Typer(help="Sign in to Nexla environments and manage them.", no_args_is_help=True)

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


@env_app.command("configure")
def env_configure(
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
    """Add or update an environment, sign in to it, and make it current."""
    # Bad arguments are refused before anything is read, stored or sent.
    if host is None and not stdin_is_terminal():
        raise UsageError(
            "HOST is required when stdin is not a terminal (the host is never read from a pipe)",
            hint="nexla env configure dataops.nexla.io --with-token < token.txt",
        )
    name = names.normalize_env_name(host) if host is not None else None
    if api_url is not None:
        api_url = names.normalize_api_url(api_url)
    session.warn_if_access_token_override()
    _print_available_environments(session.load_or_set_aside(CredentialStore()))
    if name is None:
        name = names.normalize_env_name(prompt_visible("NEXLA Environment (ex:dataops.nexla.io):"))
    token = _obtain_token(name, with_token=with_token, no_browser=no_browser)
    _sign_in(name, token, api_url=api_url, verify=not no_verify, make_current=True)


@env_app.command("login")
def env_login(
    env: EnvOption = None,
    no_browser: NoBrowserOption = False,
    with_token: WithTokenOption = False,
    no_verify: NoVerifyOption = False,
) -> None:
    """Sign in again to an environment (the current one unless --env); keeps which is current."""
    session.warn_if_access_token_override()
    name = _login_env_name(env)
    output.info(f"Current Environment: {name}")
    token = _obtain_token(name, with_token=with_token, no_browser=no_browser)
    _sign_in(name, token, api_url=None, verify=not no_verify, make_current=False)


def _login_env_name(env: Optional[str]) -> str:
    """The environment to sign in to. An unparseable store is set aside first (kept, named);
    signing in then goes on only if the environment is named, since the current one was
    recorded in the file set aside."""
    store = CredentialStore()
    try:
        data = session.load(store)
    except CorruptStore:
        session.load_or_set_aside(store)
        named = env or os.environ.get("NEXLA_ENV")
        if not named:
            raise ConfigError(
                "no environment is current: it was recorded in the file set aside",
                hint="`nexla env login --env NAME` or `nexla env configure HOST` signs in afresh",
            ) from None
        return names.normalize_env_name(named)
    return session.resolve_env_name(data, env)


def _print_available_environments(data: dict) -> None:
    output.info("Available Environments:")
    for name in sorted(data["environments"]):
        output.info(f"- {name}" + (" *" if name == data.get("current") else ""))


def _obtain_token(name: str, *, with_token: bool, no_browser: bool) -> str:
    """The token from a pipe, else typed at the terminal (hidden) after the browser and link."""
    if not stdin_is_terminal():
        return check_secret(read_secret_line_from_stdin("token"), "token")
    if with_token:
        # Asked for stdin, which is a terminal: no browser and no link, but never echoed.
        return check_secret(prompt_hidden("Enter ACCESS TOKEN:"), "token")
    link = names.token_page_url(name)
    if not no_browser:
        open_browser(link)
    output.info("If your browser didn't open, please go to the following link:")
    output.info(link)
    return check_secret(prompt_hidden("Enter ACCESS TOKEN:"), "token")


def _sign_in(name: str, token: str, *, api_url, verify: bool, make_current: bool) -> None:
    signed_in, dropped_key = session.sign_in_with_token(
        name, token, api_url=api_url, verify=verify, make_current=make_current
    )
    if dropped_key:
        output.info(f"Removed the service key saved for {name}: this session replaces it.")
    who = describe_user(signed_in.user, signed_in.org) if verify else "an unverified token"
    output.info(f"Signed in to {name} as {who}; session {describe_expiry(signed_in)}.")


@env_app.command("list")
def env_list(
    as_json: JsonOption = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Ask each environment's server, all at once, whether its token works."
        ),
    ] = False,
) -> None:
    """List the environments; the current one is marked with *.

    With --check, each signed-in environment's token is sent to its server (GET
    /users/current, all at once) and shown as valid, rejected or unreachable, with where the
    token came from. Exit 4 when any was rejected, else 5 when any was unreachable.

    Examples:

    \b
      nexla env list
      nexla env list --check
      nexla env list --check --json
    """
    store = CredentialStore()
    data = session.load(store)
    rows = []
    for name, env in sorted(data["environments"].items()):
        stored = session.stored_session(env, store.path)
        rows.append((name, name == data.get("current"), env, stored))
    checks = {}
    if check:
        from nexla_cli import handoff

        checks = handoff.check_environments(data, store.path)
    if as_json:
        listing = []
        for name, current, env, stored in rows:
            entry = _env_json(name, current, env, stored)
            if check:
                entry.update(_check_json(checks.get(name)))
            listing.append(entry)
        output.json_result(listing)
    elif not rows:
        output.info("No environments configured; run `nexla env configure`.")
    else:
        width = max(len(name) for name, *_ in rows)
        for name, current, _env, stored in rows:
            marker = "*" if current else " "
            if stored is None:
                detail = "not signed in"
            else:
                detail = f"{describe_user(stored.user, stored.org)}, {describe_expiry(stored)}"
            if name in checks:
                detail += f"  [{_describe_check(checks[name])}]"
            output.display(f"{marker} {name.ljust(width)}  {detail}")
    if check:
        _raise_for_checks(checks)


_SOURCE_WORDS = {"service_key": "service key"}


def _describe_check(result: dict) -> str:
    """`valid, token pasted`, `unreachable: timed out …, token from NEXLA_ACCESS_TOKEN`."""
    source = result["token_source"]
    if source == session.ACCESS_TOKEN_VARIABLE:
        whence = f"token from {source}"
    else:
        whence = f"token {_SOURCE_WORDS.get(source, source)}"
    status = result["status"]
    if result.get("error"):
        status += f": {result['error']}"
    return f"{status}, {whence}"


def _check_json(result: Optional[dict]) -> dict:
    if result is None:
        return {"check": None, "check_error": None, "token_source": None}
    return {
        "check": result["status"],
        "check_error": result["error"],
        "token_source": result["token_source"],
    }


def _raise_for_checks(checks: dict) -> None:
    from nexla_cli.handoff import REJECTED, UNREACHABLE

    rejected = [name for name, result in checks.items() if result["status"] == REJECTED]
    unreachable = [name for name, result in checks.items() if result["status"] == UNREACHABLE]
    if rejected:
        also = f" ({', '.join(unreachable)} could not be reached)" if unreachable else ""
        raise AuthError(
            f"the server rejected the token of {', '.join(rejected)}{also}",
            hint=f"{LOGIN_HINT} (`nexla env login --env {rejected[0]}`)",
        )
    if unreachable:
        raise NetworkError(f"could not reach the server of {', '.join(unreachable)}")


def _env_json(name: str, current: bool, env: dict, stored: Optional[Session]) -> dict:
    data = {
        "name": name,
        "current": current,
        "ui_url": names.ui_url(name),
        "api_url": env["api_url"],
        "signed_in": stored is not None,
        "user": stored.user if stored else None,
        "org": stored.org if stored else None,
        "source": stored.source if stored else None,
        "obtained_at": iso_utc(stored.obtained_at) if stored else None,
        "expires_at": iso_utc(stored.expires_at) if stored else None,
        "expires_estimated": stored.expires_estimated if stored else None,
        "expiry_source": stored.expiry_source if stored else None,
        "expired": stored.is_expired() if stored else None,
        "service_key_saved": keys.is_saved(env),
        # "keyring", "file" or null: where a saved key is (never the key itself).
        "service_key_location": keys.location(env),
    }
    return data


@env_app.command("use")
def env_use(name: EnvNameArgument) -> None:
    """Make NAME the current environment."""
    chosen = session.use_env(name)
    output.info(f"Current environment: {chosen}")


@env_app.command("show")
def env_show(
    env: EnvOption = None,
    as_json: JsonOption = False,
    check: Annotated[
        bool, typer.Option("--check", help="Ask the server whether the token is still accepted.")
    ] = False,
) -> None:
    """Show one environment in full (the token masked)."""
    store = CredentialStore()
    data = session.load(store)
    name = session.resolve_env_name(data, env)
    record = data["environments"][name]
    stored = session.stored_session(record, store.path)
    details = _env_json(name, name == data.get("current"), record, stored)
    details["token_page"] = names.token_page_url(name)
    details["token"] = mask_token(stored.access_token) if stored else None
    accepted = None
    if check:
        check_result = session.check_token(name, record, stored)
        accepted = check_result["accepted"]
        details["accepted"] = accepted
    if as_json:
        output.json_result(details)
    else:
        _print_show(details, stored)
    if check and not accepted:
        reason = check_result.get("reason") or "the token was not accepted"
        raise AuthError(f"{name}: {reason}", hint=f"{LOGIN_HINT} (`nexla env login --env {name}`)")


def _print_show(details: dict, stored: Optional[Session]) -> None:
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
            ("Source", stored.source),
            ("Obtained", iso_utc(stored.obtained_at)),
            ("Session", describe_expiry(stored)),
        ]
    where = details["service_key_location"]
    lines.append(
        ("Service key", f"saved in the {keys.LOCATION_LABELS[where]}" if where else "not saved")
    )
    if "accepted" in details:
        lines.append(
            ("Server check", "token accepted" if details["accepted"] else "token NOT accepted")
        )
    width = max(len(label) for label, _ in lines) + 1
    for label, value in lines:
        output.display(f"{(label + ':').ljust(width)} {value}")


@env_app.command("logout")
def env_logout(
    env: EnvOption = None,
    all_envs: Annotated[bool, typer.Option("--all", help="Log out of every environment.")] = False,
) -> None:
    """Log out: end the session on the server and forget the token (and saved key)."""
    session.warn_if_access_token_override()
    for name, had_session in session.logout(env, all_envs=all_envs):
        output.info(f"Logged out of {name}." if had_session else f"Not signed in to {name}.")


@env_app.command("remove")
def env_remove(name: EnvNameArgument) -> None:
    """Log out of NAME and forget the environment."""
    removed, current = session.remove_env(name)
    output.info(f"Removed {removed}.")
    if current:
        output.info(f"Current environment: {current}")
