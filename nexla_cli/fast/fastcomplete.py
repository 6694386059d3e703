"""TAB completion of environment names, answered before Typer is even imported.

Every TAB press runs `nexla` once: the completion scripts in completions/ call it back with
`_NEXLA_COMPLETE=complete_<shell>` and the words typed so far (COMP_WORDS and COMP_CWORD
from bash; _TYPER_COMPLETE_ARGS from zsh, fish and PowerShell). The answer people wait for
most is a list of environment names, and that needs nothing but the store, so this module
gives it with the standard library (and platformdirs, for the config directory) in these
shapes:

    nexla env use|remove|configure WORD
    nexla COMMAND… [ARGS…] --env|-e WORD         for every command with --env
    nexla COMMAND… [ARGS…] --env=WORD

Its answer is, byte for byte and down to the exit code, the one the full app gives through
Typer and completion.py (tests/app/test_completion.py compares the two). Anything else (another
shape, `--` on the line, a word that starts an option, an unknown shell, any surprise)
returns None, having printed nothing, and main.py runs Typer's completion instead.

Environment names are never file names, so when none matches, the shell is told not to fall
back to completing files (bash through the NO_FILES line, zsh by an empty answer, fish by
`is-args` succeeding). PowerShell still falls back to paths when nothing matches.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

# Commands whose first argument is an environment name (`env configure HOST` offers the
# ones already configured: signing in again is what it is most often used for).
NAME_ARGUMENT_COMMANDS = {("env", "use"), ("env", "remove"), ("env", "configure")}
# Commands with the --env/-e option. A command missing here still completes, through
# Typer and more slowly; tests/app/test_completion.py checks this list against the app.
ENV_OPTION_COMMANDS = {
    ("api",),
    ("env", "login"),
    ("env", "logout"),
    ("env", "show"),
    ("token", "exec"),
    ("token", "export"),
    ("token", "from-key"),
    ("token", "print"),
    ("token", "refresh"),
    ("token", "status"),
}
ENV_OPTION_NAMES = ("--env", "-e")
# Commands with the --org option (org names are offered after it; see org_names).
ORG_OPTION_COMMANDS = {
    ("api",),
    ("env", "logout"),
    ("env", "show"),
    ("env", "use"),
    ("token", "exec"),
    ("token", "export"),
    ("token", "print"),
    ("token", "refresh"),
    ("token", "status"),
}

# A line the bash script reads as "offer no files", never a candidate: no command, option
# or environment name starts with a colon.
NO_FILES = ":nofiles"
# What a stored name may hold to be offered: the characters of a normalised host name with
# a port. A hand-edited store can hold anything; nothing else reaches the terminal.
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.:[]")


def env_names(incomplete: str, environ: Mapping[str, str]) -> list[str]:
    """The configured environment names that start with `incomplete`, in stored order.

    Read from the store with no request and no lock; an unreadable store offers none.
    Both completion paths (this module's and Typer's) take their names from here.
    """
    from nexla_cli.core import paths
    from nexla_cli.core.errors import NexlaError
    from nexla_cli.storage.store import read_store

    try:
        stored = read_store(paths.credentials_path(environ)).environments
    except (NexlaError, OSError):
        return []
    return [
        name
        for name in stored
        if name.startswith(incomplete) and name and set(name) <= _NAME_CHARACTERS
    ]


def org_names(incomplete: str, environ: Mapping[str, str]) -> list[str]:
    """The names of the orgs signed in to (every identity of every environment) that start
    with `incomplete`: for --org. Each once, in stored order.

    Read from the store as env_names is. A name is offered only when it is a plain shell
    word (a server's name with spaces, control characters or anything a shell expands, such
    as `$(…)`, is not: the shell would insert it as it is) and `--org NAME` chooses that org
    alone (no other org has that name in another case, nor that id); otherwise the org's id
    is, when it is a plain word itself.
    """
    from nexla_cli.core import paths
    from nexla_cli.core.errors import NexlaError
    from nexla_cli.storage.store import read_store

    try:
        stored = read_store(paths.credentials_path(environ)).environments
    except (NexlaError, OSError):
        return []
    offered: list[str] = []
    for env in stored.values():
        orgs = []
        for identity in env.identities():
            session = identity.session_unless_damaged()
            org = (session.org if session is not None else None) or {}
            orgs.append((org.get("name"), org.get("id")))
        for name, org_id in orgs:
            word = _org_word(name, org_id, orgs)
            if word and word.startswith(incomplete) and word not in offered:
                offered.append(word)
    return offered


# Besides letters and digits, what a shell takes as it is in a word.
_PLAIN_PUNCTUATION = frozenset("-_.@+:,/=%^")


def _plain_word(text: object) -> bool:
    return (
        isinstance(text, str)
        and bool(text)
        and all(char.isalnum() or char in _PLAIN_PUNCTUATION for char in text)
    )


def _org_word(name: object, org_id: object, orgs: list[tuple[object, object]]) -> str | None:
    """What TAB offers for the org (name, id) among an environment's `orgs`: its name when
    that is a plain word that names it alone, else its id when that is one, else nothing."""
    if _plain_word(name):
        assert isinstance(name, str)
        wanted = name.casefold()
        clashes = any(
            (other_id is not None and str(other_id).casefold() == wanted)
            or (
                isinstance(other_name, str)
                and other_name.strip().casefold() == wanted
                and (type(other_id), other_id) != (type(org_id), org_id)
            )
            for other_name, other_id in orgs
        )
        if not clashes:
            return name
    text = None if org_id is None else str(org_id)
    return text if _plain_word(text) else None


def complete(instruction: str) -> int | None:
    """The exit code when this TAB press was answered here; None to run Typer's completion.

    Read from the process, not from a Deps: the shell passes the words in os.environ and
    reads the answer from sys.stdout, as Typer's completion protocol does (deps.py)."""
    action, _, shell = instruction.partition("_")
    answer = _SHELLS.get(shell) if action == "complete" else None
    if answer is None:
        return None
    try:
        return answer()
    except Exception:  # anything unexpected: Typer's completion knows what to say
        return None


def _bash() -> int | None:
    words = split_arg_string(os.environ["COMP_WORDS"])
    cword = int(os.environ["COMP_CWORD"])
    try:
        incomplete = words[cword]
    except IndexError:
        incomplete = ""
    names = _names_for(words[1:cword], incomplete)
    if names is None:
        return None
    return _write("\n".join([NO_FILES, *names]))


def _zsh() -> int | None:
    args, incomplete = _args_and_incomplete()
    names = _names_for(args, incomplete)
    if names is None:
        return None
    if not names:
        return _write("")
    return _write("_arguments '*: :((" + "\n".join(f'"{_zsh_escape(n)}"' for n in names) + "))'")


def _fish() -> int | None:
    action = os.environ.get("_TYPER_COMPLETE_FISH_ACTION", "")
    if action not in ("get-args", "is-args"):
        return None
    args, incomplete = _args_and_incomplete()
    names = _names_for(args, incomplete)
    if names is None:
        return None
    if action == "is-args":
        return 0  # names complete here: fish must not offer files instead
    return _write("\n".join(names))


def _powershell() -> int | None:
    incomplete = os.environ.get("_TYPER_COMPLETE_WORD_TO_COMPLETE", "")
    words = split_arg_string(os.environ.get("_TYPER_COMPLETE_ARGS", ""))
    args = words[1:-1] if incomplete else words[1:]
    names = _names_for(args, incomplete)
    if names is None:
        return None
    return _write("\n".join(f"{name}::: " for name in names))


_SHELLS = {
    "bash": _bash,
    "zsh": _zsh,
    "fish": _fish,
    "powershell": _powershell,
    "pwsh": _powershell,
}


def _args_and_incomplete() -> tuple[list[str], str]:
    """As Typer reads _TYPER_COMPLETE_ARGS for zsh and fish: the last word is being typed
    unless the line ends with a space."""
    line = os.environ.get("_TYPER_COMPLETE_ARGS", "")
    args = split_arg_string(line)[1:]
    if args and not line.endswith(" "):
        return args[:-1], args[-1]
    return args, ""


def _names_for(args: list[str], incomplete: str) -> list[str] | None:
    """The names to offer when the word being typed is an environment name, else None.

    This is click's rule (typer._click.shell_completion._resolve_incomplete) for the shapes
    this module takes; the parity tests hold it to that.
    """
    args = list(args)
    if incomplete == "=":
        incomplete = ""
    elif "=" in incomplete and incomplete.startswith("-"):
        option, _, incomplete = incomplete.partition("=")
        args.append(option)
    if "--" in args or incomplete.startswith("-"):
        return None
    if tuple(args) in NAME_ARGUMENT_COMMANDS:
        return env_names(incomplete, os.environ)
    if args[-1:] == ["--org"] and any(
        tuple(args[: len(command)]) == command for command in ORG_OPTION_COMMANDS
    ):
        return org_names(incomplete, os.environ)
    if args and args[-1] in ENV_OPTION_NAMES:
        for command in ENV_OPTION_COMMANDS:
            if tuple(args[: len(command)]) == command and len(args) > len(command):
                return env_names(incomplete, os.environ)
    return None


def _write(text: str) -> int:
    # What click.echo does with the answer: one write, a newline at the end.
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    return 0


def _zsh_escape(value: str) -> str:
    # As Typer escapes a zsh candidate (typer/_completion_classes.py).
    return (
        value.replace('"', '""')
        .replace("'", "''")
        .replace("$", "\\$")
        .replace("`", "\\`")
        .replace(":", r"\\:")
    )


def split_arg_string(string: str) -> list[str]:
    """Split as shlex does, keeping an unfinished last word (an open quote) as it is.

    A copy of typer._click.shell_completion.split_arg_string, which cannot be imported
    without loading Typer.
    """
    import shlex

    lex = shlex.shlex(string, posix=True)
    lex.whitespace_split = True
    lex.commenters = ""
    out: list[str] = []
    try:
        for token in lex:
            out.append(token)
    except ValueError:
        out.append(lex.token)
    return out
