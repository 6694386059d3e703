"""`nexla token …`: session tokens for shell jobs and scripts."""

import enum
from pathlib import Path
from typing import Annotated, Any, Dict, List, Optional, Tuple

import typer

from nexla_cli.auth import renewal, servicekeys, storedsessions
from nexla_cli.cli.commands.common import (
    EXPIRY_NOTES,
    Command,
    EnvOption,
    Group,
    JsonOption,
    OrgOption,
    UserOption,
    check_secret,
    describe_expiry,
    describe_source,
    describe_user,
    iso_utc,
    print_notes,
    prompt_secret,
    read_secret_line_from_stdin,
    session_json,
    stdin_is_terminal,
)
from nexla_cli.core import names, settings, timefmt
from nexla_cli.core.errors import AuthError, UsageError
from nexla_cli.core.model import Session, jwt_expiry
from nexla_cli.deps import Deps
from nexla_cli.storage import keys

token_app = typer.Typer(
    cls=Group, help="Session tokens for shell jobs and scripts.", no_args_is_help=True
)

PrintOption = Annotated[bool, typer.Option("--print", help="Print the new token alone to stdout.")]


def _print_session(
    deps: Deps, name: str, renewed: Session, *, as_json: bool, print_token: bool, verb: str
) -> None:
    deps.out.info(f"{verb} the session for {name}; it {describe_expiry(renewed, deps.now())}.")
    if print_token:
        deps.out.result(renewed.access_token)
    elif as_json:
        deps.out.json_result(session_json(name, renewed, deps.now()))


@token_app.command("refresh", cls=Command, short_help="Refresh the session token now.")
def token_refresh(
    ctx: typer.Context,
    env: EnvOption = None,
    as_json: JsonOption = False,
    print_token: PrintOption = False,
    org: OrgOption = None,
    user: UserOption = None,
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
    run_token_refresh(ctx.obj, env, as_json=as_json, print_token=print_token, org=org, user=user)


def run_token_refresh(
    deps: Deps,
    env: Optional[str],
    *,
    as_json: bool = False,
    print_token: bool = False,
    org: Optional[str] = None,
    user: Optional[str] = None,
) -> None:
    if as_json and print_token:
        raise UsageError("--json and --print cannot be used together")
    storedsessions.warn_if_access_token_override(deps)
    name, renewed = renewal.refresh_now(deps, env, org=org, user=user)
    verb = "Minted" if renewed.source == "service_key" else "Refreshed"
    _print_session(deps, name, renewed, as_json=as_json, print_token=print_token, verb=verb)


@token_app.command("from-key", cls=Command, short_help="Mint a session from a service key.")
def token_from_key(
    ctx: typer.Context,
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
            "--save-key",
            help="Keep the key to mint new sessions when this one expires: in the OS keyring, "
            "or where none exists in the credentials file (see NEXLA_KEY_STORAGE).",
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
    run_token_from_key(
        ctx.obj,
        env,
        key_file=key_file,
        save_key=save_key,
        as_json=as_json,
        print_token=print_token,
    )


def run_token_from_key(
    deps: Deps,
    env: Optional[str],
    *,
    key_file: Optional[Path] = None,
    save_key: bool = False,
    as_json: bool = False,
    print_token: bool = False,
) -> None:
    if as_json and print_token:
        raise UsageError("--json and --print cannot be used together")
    storedsessions.warn_if_access_token_override(deps)
    target = servicekeys.key_target(deps, env)
    # Where the key will be kept is settled (the keyring probed) before it is even asked for.
    storage = servicekeys.key_storage_plan(deps, target) if save_key else None
    key = check_secret(_read_service_key(deps, key_file), "service key")
    name, minted, notes = servicekeys.mint_from_key(
        deps, env, key, save_key=save_key, key_storage=storage
    )
    print_notes(deps, notes)
    _print_session(deps, name, minted, as_json=as_json, print_token=print_token, verb="Minted")


def _read_service_key(deps: Deps, key_file: Optional[Path]) -> str:
    if key_file is not None:
        if str(key_file) == "-":
            return read_secret_line_from_stdin(deps, "service key")
        from nexla_cli.core import inputs

        try:
            path = deps.path(str(key_file))
            return inputs.read_file(path, f"service key in {key_file}")  # bounded
        except OSError as exc:
            raise UsageError(
                f"cannot read the service key from {key_file}: {exc.strerror}"
            ) from None
    # The variable is set on purpose; an inherited stdin may be a pipe that never ends.
    from_variable = deps.environ.get(settings.SERVICE_KEY_VARIABLE)
    if from_variable is not None:
        # Set from a file read with its byte-order mark (PowerShell), it starts with one.
        return from_variable.removeprefix("\ufeff")
    if not stdin_is_terminal(deps):
        key = read_secret_line_from_stdin(deps, "service key")
        if not key.strip():
            raise UsageError(
                "no service key on stdin",
                hint="set NEXLA_SERVICE_KEY, pass --key-file PATH, or pipe the key in",
            )
        return key
    return prompt_secret(
        deps,
        "Enter SERVICE KEY:",
        "service key",
        pipe_hint="pass it in a file: nexla token from-key --key-file PATH",
    )


def _min_ttl(value: object) -> int:
    # The default arrives as the int 0; what the user typed, as text (settings.min_ttl).
    return value if isinstance(value, int) else settings.min_ttl(str(value))


MinTtlOption = Annotated[
    int,
    typer.Option(
        "--min-ttl",
        metavar="SECONDS",
        parser=_min_ttl,
        help="Renew first unless the token has at least SECONDS of life left (default 0, "
        "at most a year: 31536000).",
        show_default=False,
    ),
]


@token_app.command("print", cls=Command, short_help="Print the access token, for scripts.")
def token_print(
    ctx: typer.Context,
    env: EnvOption = None,
    min_ttl: MinTtlOption = 0,
    org: OrgOption = None,
    user: UserOption = None,
) -> None:
    """Print the access token and a newline to stdout, nothing else, for $(…) in scripts.

    The token is refreshed first when it is due (or minted from a saved service key), or
    when it has less than --min-ttl seconds of life left.

    \b
    Examples:
      nexla token print
      nexla token print --env beta.nexla.com
      nexla token print --min-ttl 1800
      nexla token print --org acme
      curl -H "Authorization: Bearer $(nexla token print)" \\
        https://dataops.nexla.io/nexla-api/users/current
    """
    run_token_print(ctx.obj, env, min_ttl, org=org, user=user)


def run_token_print(
    deps: Deps,
    env: Optional[str],
    min_ttl: int = 0,
    *,
    org: Optional[str] = None,
    user: Optional[str] = None,
) -> None:
    deps.out.result(renewal.live_token(deps, env, min_ttl, org=org, user=user))


class ExportFormat(str, enum.Enum):
    sh = "sh"
    fish = "fish"
    powershell = "powershell"
    dotenv = "dotenv"
    json = "json"
    # People name their shell: bash and zsh read POSIX single quotes, as `sh` writes them.
    bash = "bash"
    zsh = "zsh"


# The formats that are another name for one `handoff.render` writes.
SAME_AS_SH = (ExportFormat.bash, ExportFormat.zsh)


@token_app.command(
    "export", cls=Command, short_help="Print the session as variables for a shell or file."
)
def token_export(
    ctx: typer.Context,
    env: EnvOption = None,
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="Shell or file format to print for (bash and zsh are sh).",
            show_default=True,
        ),
    ] = ExportFormat.sh,
    min_ttl: MinTtlOption = 0,
    org: OrgOption = None,
    user: UserOption = None,
) -> None:
    """Print NEXLA_API_URL, NEXLA_ACCESS_TOKEN and NEXLA_ENV for a shell to evaluate.

    Nexla's SDK reads these variables, and so does nexla. The token is not renewed once
    exported, and NEXLA_ACCESS_TOKEN wins over the stored session until it is unset.

    \b
    Examples:
      eval "$(nexla token export)"
      nexla token export --format fish | source
      nexla token export --format powershell | Invoke-Expression
      nexla token export --format dotenv --min-ttl 3000 > job.env
    """
    from nexla_cli.auth import handoff

    deps: Deps = ctx.obj
    handed = handoff.handoff(deps, env, min_ttl, org=org, user=user)
    if fmt is not ExportFormat.json:  # json escapes what the encoding cannot hold itself
        _refuse_what_stdout_cannot_hold(deps, handed.variables)
    deps.out.result(handoff.render(handed, "sh" if fmt in SAME_AS_SH else fmt.value))


def _refuse_what_stdout_cannot_hold(deps: Deps, variables: Dict[str, str]) -> None:
    """A shell or dotenv reader takes what is written as it is: a value that stdout's
    encoding cannot hold (an API URL with `é` under LC_ALL=C) would be written with escapes
    and read back as another value, so nothing is written."""
    from nexla_cli.ui.output import OutputError

    encoding = getattr(deps.streams.stdout, "encoding", None) or "utf-8"
    for name, value in variables.items():
        try:
            value.encode(encoding)
        except UnicodeEncodeError:
            raise OutputError(
                f"{name} holds characters that stdout's encoding ({encoding}) cannot write; "
                "nothing was written",
                hint="run with a UTF-8 locale (e.g. LC_ALL=C.UTF-8), or use --format json",
            ) from None
        except LookupError:
            return


@token_app.command(
    "exec",
    cls=Command,
    short_help="Run a command with the session in its environment.",
    # Everything after COMMAND is COMMAND's own: `nexla token exec ls -l` passes -l to ls.
    context_settings={"allow_interspersed_args": False},
)
def token_exec(
    ctx: typer.Context,
    command: Annotated[
        List[str], typer.Argument(metavar="-- COMMAND [ARGS]...", show_default=False)
    ],
    env: EnvOption = None,
    min_ttl: MinTtlOption = 0,
    org: OrgOption = None,
    user: UserOption = None,
) -> None:
    """Run COMMAND with NEXLA_API_URL, NEXLA_ACCESS_TOKEN and NEXLA_ENV set.

    nexla becomes COMMAND (exec): stdin, stdout and stderr are COMMAND's, every signal
    reaches it once, as sent, and the exit status is COMMAND's (126: cannot be run, 127:
    not found, 128+N to a shell: killed by signal N). The token is in COMMAND's
    environment, never in its arguments, and not renewed while it runs.

    \b
    Examples:
      nexla token exec -- python job.py
      nexla token exec --env beta.nexla.com --min-ttl 1800 -- ./nightly.sh
    """
    from nexla_cli.auth import handoff
    from nexla_cli.cli import tokenexec

    deps: Deps = ctx.obj
    variables = handoff.handoff(deps, env, min_ttl, org=org, user=user).variables
    # COMMAND's status is final and its streams are its own: exit at once, without the
    # newline the app writes after an interrupted command of its own (status 130).
    raise SystemExit(tokenexec.run_command(deps, command, variables))


@token_app.command(
    "status", cls=Command, short_help="Whether there is a valid session, and until when."
)
def token_status(
    ctx: typer.Context,
    env: EnvOption = None,
    as_json: JsonOption = False,
    org: OrgOption = None,
    user: UserOption = None,
) -> None:
    """Show whether there is a valid session: expiry, time left, source and user.

    Never the token, and nothing is sent to the server. Exit 0 when the session is valid,
    4 when it is not.

    \b
    Examples:
      nexla token status
      nexla token status --env beta.nexla.com --json | jq .expires_in
    """
    run_token_status(ctx.obj, env, as_json=as_json, org=org, user=user)


def run_token_status(
    deps: Deps,
    env: Optional[str],
    *,
    as_json: bool = False,
    org: Optional[str] = None,
    user: Optional[str] = None,
) -> None:
    report, expires_at, stored = _status_report(deps, env, org, user)
    if as_json:
        deps.out.json_result(report)
    else:
        _print_status(deps, report, expires_at, stored)
    if not report["valid"]:
        deps.out.tell("hint: " + _status_hint(deps, report["environment"], org, user))
        raise typer.Exit(int(AuthError.exit_code))


def _status_hint(
    deps: Deps, name: str, org: Optional[str] = None, user: Optional[str] = None
) -> str:
    """What to do about the chosen identity's missing or invalid session on NAME, fitting
    what is saved."""
    data = storedsessions.load(deps)
    env = data.environments.get(name)
    identity = (
        env.find(storedsessions.choose_identity(deps, data, name, org, user)) if env else None
    )
    if identity is None or identity.session is None:
        return f"sign in with `nexla env login --env {name}`"
    if not storedsessions.usable_saved_key(identity) and storedsessions.refresh_may_revive(
        identity.session
    ):
        return storedsessions.refresh_hint(name, env, identity)
    return storedsessions.session_hint(name, env, identity)


def _status_report(
    deps: Deps, env: Optional[str], org: Optional[str] = None, user: Optional[str] = None
) -> Tuple[Dict[str, Any], Optional[float], Optional[Session]]:
    """The `--json` report, the expiry as a time for the text form (None if unknown), and
    the stored session it describes (None for NEXLA_ACCESS_TOKEN or none stored)."""
    override = storedsessions.access_token_override(deps)
    now = deps.now()
    if override:
        named = storedsessions.choose_env(deps, None, env).name
        # Nothing is known of the variable's token but what a JWT states itself.
        stated = jwt_expiry(override, now)
        return {
            "environment": names.normalize_env_name(named) if named else None,
            "valid": True,
            "source": storedsessions.ACCESS_TOKEN_VARIABLE,
            "expires_at": iso_utc(stated) if stated else None,
            "expires_in": max(int(stated - now), 0) if stated else None,
            "expires_estimated": None,
            "expiry_source": "token" if stated else None,
            "refresh_due": None,
            "user": None,
            "org": None,
            "service_key_location": None,
        }, stated, None
    data = storedsessions.load(deps)
    name = storedsessions.resolve_env_name(deps, data, env)
    who = storedsessions.choose_identity(deps, data, name, org, user)
    identity = data.environments[name].find(who)
    assert identity is not None
    stored = identity.session
    # Where a saved key is ("keyring", "file" or None), never the key.
    key_location = keys.location(identity)
    if stored is None:
        return {
            "environment": name,
            "valid": False,
            "source": None,
            "expires_at": None,
            "expires_in": None,
            "expires_estimated": None,
            "expiry_source": None,
            "refresh_due": None,
            "user": None,
            "org": None,
            "service_key_location": key_location,
        }, None, None
    return {
        "environment": name,
        "valid": not stored.is_expired(now) and not stored.rejected,
        "source": stored.source,
        "expires_at": iso_utc(stored.expires_at),
        "expires_in": max(int(stored.seconds_left(now)), 0),
        "expires_estimated": stored.expires_estimated,
        "expiry_source": stored.expiry_source,
        "refresh_due": not stored.is_fresh(now, storedsessions.margin_override(deps)),
        "user": stored.user,
        "org": stored.org,
        "service_key_location": key_location,
    }, stored.expires_at, stored


def _print_status(
    deps: Deps, report: Dict[str, Any], expires_at: Optional[float], stored: Optional[Session]
) -> None:
    name = report["environment"] or "(no environment)"
    out = deps.out
    if report["source"] == storedsessions.ACCESS_TOKEN_VARIABLE:
        expiry = (
            timefmt.until(expires_at, deps.now(), note=EXPIRY_NOTES["token"])
            if expires_at
            else "expiry unknown"
        )
        out.display(f"{name}: using the token in {storedsessions.ACCESS_TOKEN_VARIABLE} ({expiry})")
        return
    if report["source"] is None:
        out.display(f"{name}: not signed in")
        _print_key_location(deps, report)
        return
    assert expires_at is not None and stored is not None
    state = "valid session" if report["valid"] else "no valid session"
    due = "; refresh due" if report["refresh_due"] and report["valid"] else ""
    user = report["user"] or {}
    # A token stored unchecked (--no-verify) names nobody until the server is asked.
    who = (
        f" for {describe_user(user, report['org'])}"
        if user.get("full_name") or user.get("email")
        else " (user unknown)"
    )
    out.display(f"{name}: {state}{who}")
    # A refused session has no time left to count down: say it was refused.
    out.display(f"  {describe_expiry(stored, deps.now())}{due}")
    out.display(f"  source: {describe_source(report['source'])}")
    _print_key_location(deps, report)


def _print_key_location(deps: Deps, report: Dict[str, Any]) -> None:
    where = report["service_key_location"]
    deps.out.display(f"  service key: {keys.LOCATION_LABELS[where] if where else 'not saved'}")
