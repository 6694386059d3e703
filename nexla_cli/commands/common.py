"""What the command modules share: the --env option, prompts, secrets from stdin, browser."""

import os
import sys
from typing import Annotated, List, Optional

import typer

from nexla_cli import output
from nexla_cli.errors import UsageError
from nexla_cli.model import fits_a_header

# A Nexla session token is a JWT of a few KB; anything far larger is a mistake, and would
# be refused by the server as an oversized header anyway.
MAX_SECRET_LENGTH = 16 * 1024


def complete_env_names(incomplete: str) -> List[str]:
    """Stored environment names, for TAB completion: read from the store, no network."""
    from nexla_cli.fastcomplete import env_names

    return env_names(incomplete)


def _refuse_empty_env(ctx: typer.Context, value: Optional[str]) -> Optional[str]:
    # `--env "$UNSET"` must not quietly mean the current environment (and log it out).
    if value is not None and not value.strip() and not ctx.resilient_parsing:
        raise UsageError("--env needs an environment name, e.g. --env dataops.nexla.io")
    return value


EnvOption = Annotated[
    Optional[str],
    typer.Option(
        "--env",
        "-e",
        metavar="NAME",
        help="Environment to act on (default: $NEXLA_ENV, else the current one).",
        autocompletion=complete_env_names,
        show_default=False,
        callback=_refuse_empty_env,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")]


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


def read_secret_line_from_stdin(what: str) -> str:
    """The first non-empty line of stdin, stripped (the rest is never read)."""
    stream = sys.stdin.buffer if sys.stdin is not None else None
    if stream is None:
        raise UsageError(f"no {what} given on stdin")
    from nexla_cli import inputs

    return inputs.first_line(stream, f"{what} on stdin")  # bounded: 16 KiB, one line


def prompt_hidden(label: str) -> str:
    """A prompt on stderr, the answer typed without echo."""
    import getpass

    # getpass writes the prompt only once echo is off. Writing it before would be a race:
    # getpass's TCSAFLUSH discards whatever was typed or pasted between prompt and call.
    try:
        return getpass.getpass(label + " ", stream=sys.stderr)
    except EOFError:
        return ""


def prompt_visible(label: str) -> str:
    sys.stderr.write(label + " ")
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        sys.stderr.write("\n")
    return line.strip()


def check_secret(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise UsageError(f"empty {what}: nothing was changed")
    if len(value) > MAX_SECRET_LENGTH:
        raise UsageError(
            f"the {what} is {len(value)} characters long, too long to be a Nexla {what}"
        )
    if not fits_a_header(value):
        raise UsageError(
            f"the {what} contains spaces, control or non-ASCII characters: nothing was changed"
        )
    return value


def open_browser(url: str) -> bool:
    """Open url with Python's webbrowser (which honours $BROWSER); False if none could."""
    # With no display and no $BROWSER, webbrowser may start a text-mode browser in this
    # very terminal; printing the link is the better answer there.
    if (
        sys.platform.startswith("linux")
        and not os.environ.get("BROWSER")
        and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    ):
        return False
    import webbrowser

    try:
        return bool(webbrowser.open(url))
    except Exception:  # a broken browser setup must not stop a sign-in
        return False


def print_notes(notes: List[str]) -> None:
    for note in notes:
        output.info(note)


# Presenting sessions -------------------------------------------------------------------


def iso_utc(epoch: float) -> str:
    import datetime

    moment = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    return f"{hours // 24}d"


# How an expiry that the server did not give is marked where it is shown.
EXPIRY_NOTES = {"estimate": ", estimated", "token": ", from the token"}


def describe_expiry(session) -> str:
    """`expires 2026-11-27T22:00:00Z (in 59m, estimated)` or `expired …`."""
    left = session.seconds_left()
    estimated = EXPIRY_NOTES.get(session.expiry_source, "")
    if session.rejected:
        return f"refused by the server (expires {iso_utc(session.expires_at)}{estimated})"
    if left <= 0:
        return f"expired {iso_utc(session.expires_at)} ({duration(-left)} ago{estimated})"
    return f"expires {iso_utc(session.expires_at)} (in {duration(left)}{estimated})"


def describe_user(user: dict, org: Optional[dict] = None, *, impersonation: bool = True) -> str:
    """`Ada <ada@example.com> (org Example), impersonated by Grace <grace@nexla.com>`."""
    who = describe_person(user)
    if org and org.get("name"):
        who += f" (org {org['name']})"
    if impersonation and user.get("impersonated"):
        who += f", impersonated by {describe_impersonator(user)}"
    return who


def describe_person(person: dict) -> str:
    name = person.get("full_name") or ""
    email = person.get("email") or ""
    return f"{name} <{email}>" if name and email else (name or email or "an unknown user")


def describe_impersonator(user: dict) -> str:
    """The admin acting as `user` (the server names them; an old record may not)."""
    admin = user.get("impersonator")
    return describe_person(admin) if isinstance(admin, dict) else "an administrator"


def mask_token(token: str) -> str:
    if len(token) < 24:
        return "****"
    return f"{token[:4]}…{token[-4:]}"


def session_json(name: str, session) -> dict:
    """The stored session as `token refresh --json` and `token from-key --json` print it."""
    return {
        "access_token": session.access_token,
        "token_type": session.token_type,
        "expires_at": iso_utc(session.expires_at),
        "expires_in": max(int(session.seconds_left()), 0),
        "environment": name,
        "user": session.user,
        "org": session.org,
    }
