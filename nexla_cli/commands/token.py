"""`nexla token …`: session tokens for shell jobs and scripts."""

import os
import time
from pathlib import Path
from typing import Annotated, Optional, Tuple

import typer

from nexla_cli import names, output, session, timefmt
from nexla_cli.commands.common import (
    EnvOption,
    JsonOption,
    check_secret,
    describe_expiry,
    describe_user,
    iso_utc,
    print_notes,
    prompt_secret,
    read_secret_line_from_stdin,
    session_json,
    stdin_is_terminal,
)
from nexla_cli.errors import AuthError, UsageError
from nexla_cli.store import CredentialStore

token_app = typer.Typer(help="Session tokens for shell jobs and scripts.", no_args_is_help=True)

PrintOption = Annotated[bool, typer.Option("--print", help="Print the new token alone to stdout.")]


def _print_session(name: str, renewed, *, as_json: bool, print_token: bool, verb: str) -> None:
    if as_json and print_token:
        raise UsageError("--json and --print cannot be used together")
    output.info(f"{verb} the session for {name}; it {describe_expiry(renewed)}.")
    if print_token:
        output.result(renewed.access_token)
    elif as_json:
        output.json_result(session_json(name, renewed))


@token_app.command("refresh", short_help="Refresh the session token now.")
def token_refresh(
    env: EnvOption = None, as_json: JsonOption = False, print_token: PrintOption = False
) -> None:
    """Refresh the session token now (POST /token/refresh) and store the new one.

    With a saved service key, a session the server will not refresh is minted anew from the
    key. Commands that need a token refresh it by themselves when it is due; this is for
    when you want it now.

    \b
    Examples:
      nexla token refresh
      nexla token refresh --env beta.nexla.com --json
      TOKEN=$(nexla token refresh --print)
    """
    if as_json and print_token:
        raise UsageError("--json and --print cannot be used together")
    session.warn_if_access_token_override()
    name, renewed = session.refresh_now(env)
    verb = "Minted a new" if renewed.source == "service_key" else "Refreshed"
    _print_session(name, renewed, as_json=as_json, print_token=print_token, verb=verb)


@token_app.command("from-key", short_help="Mint a session from a service key.")
def token_from_key(
    env: EnvOption = None,
    key_file: Annotated[
        Optional[Path],
        typer.Option(
            "--key-file",
            metavar="PATH",
            help="Read the service key from PATH ('-' for stdin).",
            dir_okay=False,
        ),
    ] = None,
    save_key: Annotated[
        bool,
        typer.Option(
            "--save-key", help="Keep the key (0600) to mint new sessions when this one expires."
        ),
    ] = False,
    as_json: JsonOption = False,
    print_token: PrintOption = False,
) -> None:
    """Mint a session from a service key (POST /token) and store it.

    The key comes from --key-file, else $NEXLA_SERVICE_KEY, else stdin when it is not a
    terminal, else a hidden prompt. It is never taken as an argument. With --save-key it is
    kept, and a new session is minted from it whenever the old one has expired.

    \b
    Examples:
      nexla token from-key --env dataops.nexla.io --key-file key.txt --save-key
      nexla token from-key --key-file - --print < key.txt
      NEXLA_SERVICE_KEY="$KEY" nexla token from-key --json
    """
    if as_json and print_token:
        raise UsageError("--json and --print cannot be used together")
    session.warn_if_access_token_override()
    session.key_target(env)
    key = check_secret(_read_service_key(key_file), "service key")
    name, minted, notes = session.mint_from_key(env, key, save_key=save_key)
    print_notes(notes)
    if save_key:
        output.info(f"Saved the service key for {name} in {CredentialStore().path} (mode 0600).")
    _print_session(name, minted, as_json=as_json, print_token=print_token, verb="Minted")


def _read_service_key(key_file: Optional[Path]) -> str:
    if key_file is not None:
        if str(key_file) == "-":
            return read_secret_line_from_stdin("service key")
        try:
            return key_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise UsageError(f"cannot read the service key from {key_file}: {reason}") from None
    # The variable is set on purpose; an inherited stdin may be a pipe that never ends.
    from_variable = os.environ.get("NEXLA_SERVICE_KEY")
    if from_variable is not None:
        return from_variable
    if not stdin_is_terminal():
        key = read_secret_line_from_stdin("service key")
        if not key.strip():
            raise UsageError(
                "no service key on stdin",
                hint="set NEXLA_SERVICE_KEY, pass --key-file PATH, or pipe the key in",
            )
        return key
    return prompt_secret(
        "Enter SERVICE KEY:",
        "service key",
        pipe_hint="pass it in a file: nexla token from-key --key-file PATH",
    )


@token_app.command("print", short_help="Print the access token, for scripts.")
def token_print(env: EnvOption = None) -> None:
    """Print the access token and a newline to stdout, nothing else, for $(…) in scripts.

    The token is refreshed first when it is due (or minted from a saved service key).

    \b
    Examples:
      nexla token print
      nexla token print --env beta.nexla.com
      curl -H "Authorization: Bearer $(nexla token print)" \\
        https://dataops.nexla.io/nexla-api/users/current
    """
    output.result(session.live_token(env))


@token_app.command("status", short_help="Whether there is a valid session, and until when.")
def token_status(env: EnvOption = None, as_json: JsonOption = False) -> None:
    """Show whether there is a valid session: expiry, time left, source and user.

    Never the token, and nothing is sent to the server. Exit 0 when the session is valid,
    4 when it is not.

    \b
    Examples:
      nexla token status
      nexla token status --env beta.nexla.com --json | jq .expires_in
    """
    report, expires_at = _status_report(env)
    if as_json:
        output.json_result(report)
    else:
        _print_status(report, expires_at)
    if not report["valid"]:
        name = report["environment"]
        output.info(f"hint: sign in with `nexla env login --env {name}`")
        raise typer.Exit(int(AuthError.exit_code))


def _status_report(env: Optional[str]) -> Tuple[dict, Optional[float]]:
    """The `--json` report, and the expiry as a time for the text form (None if unknown)."""
    if session.access_token_override():
        named = env or os.environ.get("NEXLA_ENV")
        return {
            "environment": names.normalize_env_name(named) if named else None,
            "valid": True,
            "source": session.ACCESS_TOKEN_VARIABLE,
            "expires_at": None,
            "expires_in": None,
            "expires_estimated": None,
            "refresh_due": None,
            "user": None,
            "org": None,
        }, None
    store = CredentialStore()
    data = session.load(store)
    name = session.resolve_env_name(data, env)
    stored = session.stored_session(data["environments"][name], store.path)
    if stored is None:
        return {
            "environment": name,
            "valid": False,
            "source": None,
            "expires_at": None,
            "expires_in": None,
            "expires_estimated": None,
            "refresh_due": None,
            "user": None,
            "org": None,
        }, None
    return {
        "environment": name,
        "valid": not stored.is_expired() and not stored.rejected,
        "source": stored.source,
        "expires_at": iso_utc(stored.expires_at),
        "expires_in": max(int(stored.seconds_left()), 0),
        "expires_estimated": stored.expires_estimated,
        "refresh_due": not stored.is_fresh(),
        "user": stored.user,
        "org": stored.org,
    }, stored.expires_at


def _print_status(report: dict, expires_at: Optional[float]) -> None:
    name = report["environment"] or "(no environment)"
    if report["source"] == session.ACCESS_TOKEN_VARIABLE:
        output.result(
            f"{name}: using the token in {session.ACCESS_TOKEN_VARIABLE} (expiry unknown)"
        )
        return
    if report["source"] is None:
        output.result(f"{name}: not signed in")
        return
    state = "valid session" if report["valid"] else "no valid session"
    due = "; refresh due" if report["refresh_due"] and report["valid"] else ""
    output.result(f"{name}: {state} for {describe_user(report['user'] or {}, report['org'])}")
    expiry = timefmt.until(expires_at, time.time(), estimated=bool(report["expires_estimated"]))
    output.result(f"  {expiry}{due}")
    output.result(f"  source: {report['source']}")
