"""What the command modules share: the --env option, prompts, secrets from stdin, browser."""

import os
import sys
from types import FrameType
from typing import Annotated, Any, Callable, Dict, List, Mapping, Optional, Tuple

import typer
from typer._click.core import Command as ClickCommand
from typer._click.core import Context as ClickContext
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperCommand, TyperGroup

from nexla_cli.core import identities, lineedit, names, pasted, suggest, timefmt
from nexla_cli.core.errors import NetworkError, UsageError
from nexla_cli.core.model import MAX_SECRET_LENGTH, Session, fits_a_header

# Re-exported: the commands' one place for times.
from nexla_cli.core.timefmt import duration as duration
from nexla_cli.core.timefmt import iso_utc as iso_utc
from nexla_cli.deps import Deps


def complete_env_names(ctx: typer.Context, incomplete: str) -> List[str]:
    """Stored environment names, for TAB completion: read from the store, no network."""
    from nexla_cli.cli.completion import TabPress
    from nexla_cli.fast.fastcomplete import env_names

    deps: Deps = ctx.find_root().obj
    TabPress.names_offered = True  # names are never files: the shell must not offer any
    return env_names(incomplete, deps.environ)


def complete_org_names(ctx: typer.Context, incomplete: str) -> List[str]:
    """The orgs of the stored identities, for TAB completion after --org: no network."""
    from nexla_cli.cli.completion import TabPress
    from nexla_cli.fast.fastcomplete import org_names

    deps: Deps = ctx.find_root().obj
    TabPress.names_offered = True  # org names are never files either
    return org_names(incomplete, deps.environ)


def _refuse_empty_env(ctx: typer.Context, value: Optional[str]) -> Optional[str]:
    # `--env "$UNSET"` must not quietly mean the current environment (and log it out).
    if value is not None and not value.strip() and not ctx.resilient_parsing:
        raise UsageError("--env needs an environment name, e.g. --env dataops.nexla.io")
    return value


def _refuse_empty_choice(ctx: typer.Context, value: Optional[str]) -> Optional[str]:
    # As for --env: `--org "$UNSET"` must not quietly mean the active identity.
    if value is not None and not value.strip() and not ctx.resilient_parsing:
        raise UsageError("--org and --user need a value, e.g. --org acme")
    return value


def _show_help(ctx: typer.Context, param: object, value: bool) -> None:
    """--help: the help goes to the run's stdout (Deps), like any other result."""
    if not value or ctx.resilient_parsing:
        return
    deps: Deps = ctx.find_root().obj
    deps.out.result(ctx.get_help())
    ctx.exit()


class _HelpOnTheRunsStdout:
    """Click writes --help to sys.stdout itself; nexla writes to the run's stdout.

    And the help option's names keep their order (-h, then --help): click makes a set of
    them, so TAB offered them in an order that changed from run to run, and the completion
    table (scripts/gen_completion_table.py) could not be generated twice alike."""

    def get_help_option_names(self, ctx: ClickContext) -> List[str]:
        names = set(super().get_help_option_names(ctx))  # type: ignore[misc]
        return [name for name in ctx.help_option_names if name in names]

    def get_help_option(self, ctx):  # type: ignore[no-untyped-def]
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.callback = _show_help
        return option


class Group(_HelpOnTheRunsStdout, TyperGroup):
    """A command group (`nexla`, `nexla env`, `nexla token`)."""

    def list_commands(self, ctx: ClickContext) -> List[str]:
        # Groups first: a newcomer's first commands are `env` and `token`, not `api` or `help`
        # (Typer builds the plain commands before the groups).
        names = super().list_commands(ctx)
        return sorted(names, key=lambda name: not isinstance(self.commands[name], TyperGroup))

    def resolve_command(
        self, ctx: ClickContext, args: List[str]
    ) -> Tuple[Optional[str], Optional[ClickCommand], List[str]]:
        # Typer suggests any command difflib finds at its loose default; only a close one here.
        try:
            return self._click_resolve_command(ctx, args)
        except ClickUsageError as exc:
            if args:
                closest = suggest.close_names(args[0], self.list_commands(ctx))
                exc.message = exc.message + suggest.did_you_mean(closest)
            raise


class Command(_HelpOnTheRunsStdout, TyperCommand):
    """A command whose usage line shows a required argument as `NAME`, as people write it.

    Typer 0.28 writes it `{NAME}`, which reads like a literal brace or a choice.
    """

    def collect_usage_pieces(self, ctx: ClickContext) -> List[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]


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
OrgOption = Annotated[
    Optional[str],
    typer.Option(
        "--org",
        metavar="ORG",
        help="Which org's identity on the environment: its id or name, in any case "
        "(default: $NEXLA_ORG, else the environment's active identity).",
        autocompletion=complete_org_names,
        show_default=False,
        callback=_refuse_empty_choice,
    ),
]
UserOption = Annotated[
    Optional[str],
    typer.Option(
        "--user",
        metavar="EMAIL",
        help="Which user's identity, where two users share an org (default: $NEXLA_USER).",
        show_default=False,
        callback=_refuse_empty_choice,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")]


def stdin_is_terminal(deps: Deps) -> bool:
    return deps.streams.stdin is not None and deps.streams.stdin_tty


def read_secret_line_from_stdin(deps: Deps, what: str) -> str:
    """The first non-empty line of stdin, stripped (the rest is never read)."""
    stdin = deps.streams.stdin
    stream = stdin.buffer if stdin is not None else None
    if stream is None:
        raise UsageError(f"no {what} given on stdin")
    from nexla_cli.core import inputs

    return inputs.first_line(stream, f"{what} on stdin")  # bounded: 16 KiB, one line


# An empty line at a secret prompt (Enter pressed before pasting) asks again this often.
SECRET_PROMPT_TRIES = 3


def read_hidden(deps: Deps, label: str, *, pipe_hint: str = "") -> Optional[str]:
    """A prompt on stderr, the answer typed without echo and stripped; None at end of input.

    On a POSIX terminal the line is read without the terminal's line editing, whose line
    limit (Linux 4095 bytes, macOS 1024) would drop the rest of a long paste, Enter
    included: nexla does the editing itself (core/lineedit.py) and takes a paste whole up
    to MAX_SECRET_LENGTH; longer is refused (pipe_hint says how to pipe the secret instead).
    """
    if sys.platform == "win32":  # no termios (the type checker skips what follows there)
        return _prompt_hidden_elsewhere(deps, label)
    import termios

    try:
        stdin = deps.streams.stdin
        assert stdin is not None
        fd = stdin.fileno()
        before = termios.tcgetattr(fd)
    except (AttributeError, AssertionError, ValueError, OSError, termios.error):
        return _prompt_hidden_elsewhere(deps, label)
    line, outcome = _read_line_hidden(deps, fd, label, before)
    if outcome == lineedit.END_OF_INPUT:
        return None
    if outcome == lineedit.INTERRUPT:
        raise KeyboardInterrupt
    if outcome == lineedit.TOO_LONG:
        raise UsageError(
            f"what was pasted is longer than {MAX_SECRET_LENGTH // 1024} KiB, more than a "
            "token or key can be: not read further, nothing was sent",
            hint=pipe_hint or "pipe it in instead of pasting it",
        )
    try:
        return line.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise UsageError("what was typed is not UTF-8 text; nothing was sent") from None


def _without_line_editing(before: List[Any]) -> List[Any]:
    """Terminal attributes for the hidden prompt: no echo, no canonical mode (so no line
    limit), no extended input processing (Ctrl-V, Ctrl-O). ISIG stays on: Ctrl-C and
    Ctrl-Z are signals as everywhere else (130; job control, echo off again on `fg`)."""
    if sys.platform == "win32":  # never called there (read_hidden)
        raise OSError("no POSIX terminal on Windows")
    import termios

    hidden = [*before[:6], list(before[6])]
    hidden[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN)
    hidden[6][termios.VMIN] = 1
    hidden[6][termios.VTIME] = 0
    return hidden


def _edit_keys(before: List[Any]) -> lineedit.EditKeys:
    """The terminal's own erase, kill-line, end-of-input and interrupt characters."""
    if sys.platform == "win32":  # never called there (read_hidden)
        raise OSError("no POSIX terminal on Windows")
    import termios

    chars = before[6]

    def key(*indices: int) -> List[int]:
        return [byte for index in indices for byte in lineedit.control_byte(chars[index])]

    return lineedit.EditKeys(
        erase=key(termios.VERASE),
        kill=key(termios.VKILL, termios.VWERASE),
        end=key(termios.VEOF),
        interrupt=key(termios.VINTR),
    )


def _read_line_hidden(
    deps: Deps, fd: int, label: str, before: List[Any]
) -> Tuple[bytes, Optional[str]]:
    # `before` is the termios attribute list (flags, speeds, control characters).
    if sys.platform == "win32":  # never called there (read_hidden)
        raise OSError("no POSIX terminal on Windows")
    import signal
    import termios

    hidden = _without_line_editing(before)
    keys = _edit_keys(before)

    def hide() -> None:
        try:
            termios.tcsetattr(fd, termios.TCSANOW, hidden)
        except termios.error:
            pass  # the terminal went away; the read that follows ends the prompt

    def on_stop(signum: int, frame: Optional[FrameType]) -> None:
        # Give the shell its terminal back as it was, then stop as SIGTSTP would have.
        try:
            termios.tcsetattr(fd, termios.TCSANOW, before)
        except termios.error:
            pass
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)
        signal.signal(signal.SIGTSTP, on_stop)

    def on_continue(signum: int, frame: Optional[FrameType]) -> None:
        hide()
        deps.out.prompt("\n" + label + " ")

    previous_stop = signal.signal(signal.SIGTSTP, on_stop)
    previous_continue = signal.signal(signal.SIGCONT, on_continue)
    outcome: Optional[str] = None
    try:
        # Echo goes off before the prompt is shown, and TCSAFLUSH drops anything typed
        # earlier: what is typed after the prompt appears is never echoed.
        termios.tcsetattr(fd, termios.TCSAFLUSH, hidden)
        deps.out.prompt(label + " ")
        line, outcome = _read_edited(fd, keys)
        # The Enter that ended the line was not echoed: end the prompt's line here.
        deps.out.prompt("\n")
        return line, outcome
    finally:
        # The rest of a paste refused as too long must not reach the shell after nexla.
        when = termios.TCSAFLUSH if outcome == lineedit.TOO_LONG else termios.TCSADRAIN
        try:
            termios.tcsetattr(fd, when, before)
        except termios.error:
            pass
        signal.signal(signal.SIGTSTP, previous_stop)
        signal.signal(signal.SIGCONT, previous_continue)


def _read_edited(fd: int, keys: lineedit.EditKeys) -> Tuple[bytes, str]:
    """Read and edit until the line ends (lineedit's outcomes), bounded by MAX_SECRET_LENGTH."""
    line, outcome = b"", None
    while outcome is None:
        try:
            typed = os.read(fd, 4096)
        except OSError:  # EIO: the terminal went away
            typed = b""
        if not typed:  # the terminal hung up: a line cut short is never sent
            return b"", lineedit.END_OF_INPUT
        line, outcome = lineedit.edit(line, typed, keys, MAX_SECRET_LENGTH)
    return line, outcome


def _prompt_hidden_elsewhere(deps: Deps, label: str) -> Optional[str]:
    """Where there is no POSIX terminal (Windows, or stdin is not a terminal): getpass
    knows the console (on Windows it reads key by key, with no line limit)."""
    import getpass

    try:
        return getpass.getpass(label + " ", stream=deps.streams.stderr).strip()
    except EOFError:
        return None


def prompt_secret(
    deps: Deps,
    label: str,
    what: str,
    *,
    pipe_hint: str,
    check: Optional[Callable[[str], str]] = None,
) -> str:
    """A hidden prompt that asks again after an empty line (Enter pressed before pasting).

    End of input (Ctrl-D), or SECRET_PROMPT_TRIES empty lines, is a usage error. What was
    typed goes through `check` (default: check_secret).
    """
    for tries_left in range(SECRET_PROMPT_TRIES - 1, -1, -1):
        value = read_hidden(deps, label, pipe_hint=pipe_hint)
        if value is None:
            break
        if value:
            return check(value) if check is not None else check_secret(value, what)
        if tries_left:
            tries = "try" if tries_left == 1 else "tries"
            deps.out.tell(
                f"No {what} entered; paste it and press Enter ({tries_left} more {tries})."
            )
    raise UsageError(f"no {what} entered: nothing was changed", hint=pipe_hint)


HOST_PROMPT = "NEXLA Environment (ex:dataops.nexla.io):"


def prompt_host(deps: Deps) -> str:
    """The environment's host, typed at the terminal; an empty line (Enter pressed before
    typing) asks again, as the token prompt does. End of input, or SECRET_PROMPT_TRIES
    empty lines, is a usage error."""
    for tries_left in range(SECRET_PROMPT_TRIES - 1, -1, -1):
        line = prompt_visible_line(deps, HOST_PROMPT)
        if line is None:
            break
        if line.strip():
            return line.strip()
        if tries_left:
            tries = "try" if tries_left == 1 else "tries"
            deps.out.tell(
                f"No environment entered; type its host and press Enter ({tries_left} more "
                f"{tries})."
            )
    raise UsageError(
        "no environment entered: nothing was changed",
        hint="name it: nexla env configure dataops.nexla.io",
    )


def prompt_visible_line(deps: Deps, label: str) -> Optional[str]:
    """A line typed at a visible prompt, or None at end of input."""
    deps.out.prompt(label + " ")
    stdin = deps.streams.stdin
    line = stdin.readline() if stdin is not None else ""
    if not line:
        deps.out.prompt("\n")
        return None
    return line


def check_token(value: str, name: str, *, source: str) -> str:
    """The access token in pasted or piped text (`source`: "pasted", "given on stdin"):
    spaces, `Bearer ` and quotes around it removed; a URL, or a quote at one end only,
    refused before anything is sent."""
    judged = pasted.judge_pasted_token(value)
    if judged.kind == pasted.URL:
        raise UsageError(
            f"a URL was {source} instead of the token; nothing was sent",
            hint=f"open {names.token_page_url(name)} and copy the token the page shows, "
            "not an address",
        )
    if judged.kind == pasted.STRAY_QUOTE:
        raise UsageError(
            f"the token {source} has a quote mark at one end only (a token holds no "
            "quotes); nothing was sent",
            hint="copy the token again, with no quote marks or with both",
        )
    return check_secret(judged.text, "token")


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


# The browser ----------------------------------------------------------------------------

# Graphical launchers tried in order on Linux and the BSDs when a display is set. Text-mode
# browsers are never on this list: they would take over the terminal the prompt is on.
_GRAPHICAL_LAUNCHERS = (
    ("xdg-open",),
    ("gio", "open"),
    ("x-www-browser",),
    ("firefox",),
    ("google-chrome",),
    ("chromium",),
    ("chromium-browser",),
)


def open_browser(deps: Deps, url: str) -> bool:
    """Start a browser on url in the background; False when there is none to start.

    $BROWSER is honoured (a list of commands separated by the path separator; `%s` stands
    for the URL, which is otherwise added at the end), even with no display; else `open` on
    macOS, the default handler on Windows, or a graphical launcher when a display is set.
    The browser is started in a session of its own, with stdin, stdout and stderr on the
    null device, and never waited for: one that hangs cannot block the prompt, one that
    prints cannot write into nexla's output, and none can take over the terminal. Whether
    it showed the page cannot be known, so the caller prints the link either way.
    """
    if sys.platform == "win32":
        if not deps.environ.get("BROWSER"):
            try:
                os.startfile(url)  # returns at once
            except OSError:
                return False
            return True
    import subprocess

    for command in browser_commands(url, deps.environ):
        try:
            subprocess.Popen(
                command,
                env=dict(deps.environ),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                close_fds=True,
                start_new_session=True,
            )
        except (OSError, ValueError):
            continue  # not installed, not executable: try the next one
        deps.out.debug(f"started the browser: {command[0]}")
        return True
    return False


def browser_commands(
    url: str, environ: Mapping[str, str], platform: Optional[str] = None
) -> List[List[str]]:
    """The commands open_browser would try, in order."""
    import shutil

    platform = platform or sys.platform
    chosen = environ.get("BROWSER", "")
    if chosen.strip():
        commands = []
        for entry in chosen.split(";" if platform == "win32" else ":"):
            words = browser_words(entry, platform)
            if not words:
                continue
            if any("%s" in word for word in words):
                commands.append([word.replace("%s", url) for word in words])
            else:
                commands.append([*words, url])
        return commands
    if platform == "darwin":
        return [["open", url]]
    if not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")):
        return []
    path = environ.get("PATH")
    return [
        [*launcher, url]
        for launcher in _GRAPHICAL_LAUNCHERS
        if shutil.which(launcher[0], path=path)
    ]


def browser_words(entry: str, platform: str) -> List[str]:
    """One $BROWSER entry as a command: shell words on POSIX (`firefox --new-window %s`);
    on Windows a program's path, spaces and backslashes as they are (`C:\\Program
    Files\\Mozilla Firefox\\firefox.exe`), or a quoted path followed by its arguments
    (`"C:\\…\\chrome.exe" --new-window %s`). Empty when the entry says nothing usable."""
    entry = entry.strip()
    if platform != "win32":
        import shlex

        try:
            return shlex.split(entry)
        except ValueError:
            return []
    if entry.startswith('"'):
        program, quote, rest = entry[1:].partition('"')
        if not quote or not program.strip():
            return []
        return [program, *rest.split()]
    return [entry] if entry else []


# Checks before anyone is sent to a browser ---------------------------------------------

_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


def check_host_resolves(deps: Deps, name: str) -> None:
    """Exit 5 when the environment's host cannot be looked up, before a browser opens on it.

    Skipped behind a proxy, which looks names up itself (the local resolver may not know
    them). A lookup slower than deps.timing.host_lookup is left to the request that
    follows.
    """
    if any(deps.environ.get(variable) for variable in _PROXY_VARIABLES):
        return
    import socket
    import threading

    host, port = _host_and_port(name)
    outcome: Dict[str, Exception] = {}

    def look_up() -> None:
        try:
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            outcome["error"] = exc
        except OSError:
            pass  # anything else is for the request to report

    worker = threading.Thread(target=look_up, daemon=True)
    worker.start()
    worker.join(deps.timing.host_lookup)
    error = outcome.get("error")
    if error is None:
        return
    reason = getattr(error, "strerror", None) or "no such host"
    raise NetworkError(
        f"cannot find the host {host}: {reason}; no browser was opened and nothing was sent",
        hint="check the name for a typo (e.g. dataops.nexla.io), or your network connection",
    )


def check_api_accepts_connections(deps: Deps, api_url: str) -> None:
    """Exit 5 when the API's host and port refuse a connection, or do not answer one within
    deps.timing.api_connect, before a browser opens: a wrong port would otherwise show only
    after the token was fetched and pasted.

    Skipped behind a proxy, which makes the connection itself. A name that cannot be looked
    up, or any other failure to connect, is left to the request that follows.
    """
    if any(deps.environ.get(variable) for variable in _PROXY_VARIABLES):
        return
    from urllib.parse import urlsplit

    netloc = urlsplit(api_url).netloc
    host, port = _host_and_port(netloc)
    bound = deps.timing.api_connect
    reason = _connect_failure(host, port, bound)
    if reason is None:
        return
    raise NetworkError(
        f"cannot connect to {netloc}: {reason}; no browser was opened and nothing was sent",
        hint="check the host name and port (e.g. dataops.nexla.io, localhost:8443), "
        "and that the server is running",
    )


def _connect_failure(host: str, port: int, bound: float) -> Optional[str]:
    """Why no address of host:port took a TCP connection within `bound` seconds in all
    (`connection refused`, `no answer within 2s`); None when one did, or when the reason is
    for the request to report."""
    import socket
    import time

    deadline = time.monotonic() + bound
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None  # the lookup was checked before; anything else is the request's
    failures = []
    for family, kind, proto, _, address in addresses:
        left = deadline - time.monotonic()
        if left <= 0:
            failures.append("timed out")
            break
        try:
            with socket.socket(family, kind, proto) as connection:
                connection.settimeout(left)
                connection.connect(address)
            return None
        except ConnectionRefusedError:
            failures.append("refused")
        except (socket.timeout, TimeoutError):
            failures.append("timed out")
        except OSError:
            failures.append("other")
    if "timed out" in failures:
        return f"no answer within {bound:g}s"
    return "connection refused" if "refused" in failures else None


def _host_and_port(name: str) -> Tuple[str, int]:
    if name.startswith("["):
        address, _, rest = name[1:].partition("]")
        return address, int(rest[1:]) if rest.startswith(":") else 443
    host, colon, port = name.partition(":")
    return host, int(port) if colon else 443


def print_notes(deps: Deps, notes: List[str]) -> None:
    for note in notes:
        deps.out.info(note)


# Presenting sessions -------------------------------------------------------------------


# Where a session came from, in words for people; --json keeps the stored ids.
SOURCE_WORDS = {"service_key": "service key", "pasted": "pasted", "refreshed": "refreshed"}


def describe_source(source: str) -> str:
    return SOURCE_WORDS.get(source, source.replace("_", " "))


# How an expiry that the server did not give is marked where it is shown.
EXPIRY_NOTES = {"estimate": ", estimated", "token": ", from the token"}


def describe_expiry(session: Session, now: float) -> str:
    """`expires in 59m (2026-11-27T22:00:00Z, estimated)` or `expired 3d ago (…)`."""
    if session.rejected:
        return f"refused by the server (it was to expire {iso_utc(session.expires_at)})"
    note = EXPIRY_NOTES.get(session.expiry_source, "")
    return timefmt.until(session.expires_at, now, note=note)


def describe_user(
    user: Dict[str, Any], org: Optional[Dict[str, Any]] = None, *, impersonation: bool = True
) -> str:
    """`Ada <ada@example.com> in Acme (org 7), impersonated by Grace <grace@nexla.com>`:
    the org as every message names an identity's (core/identities.py)."""
    who = describe_person(user)
    if org and (org.get("name") or org.get("id") is not None):
        who += " in " + identities.org_label(org.get("name"), org.get("id"))
    if impersonation and user.get("impersonated"):
        who += f", impersonated by {describe_impersonator(user)}"
    return who


def describe_person(person: Dict[str, Any]) -> str:
    name = person.get("full_name") or ""
    email = person.get("email") or ""
    return f"{name} <{email}>" if name and email else (name or email or "an unknown user")


def describe_impersonator(user: Dict[str, Any]) -> str:
    """The admin acting as `user` (the server names them; an old record may not)."""
    admin = user.get("impersonator")
    return describe_person(admin) if isinstance(admin, dict) else "an administrator"


def mask_token(token: str) -> str:
    if len(token) < 24:
        return "****"
    return f"{token[:4]}…{token[-4:]}"


def session_json(name: str, session: Session, now: float) -> Dict[str, Any]:
    """The stored session as `token refresh --json` and `token from-key --json` print it."""
    return {
        "access_token": session.access_token,
        "token_type": session.token_type,
        "expires_at": iso_utc(session.expires_at),
        "expires_in": max(int(session.seconds_left(now)), 0),
        "environment": name,
        "user": session.user,
        "org": session.org,
    }
