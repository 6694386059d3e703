"""TAB completion, answered before Typer is even imported.

Every TAB press runs `nexla` once: the completion scripts in completions/ call it back with
`_NEXLA_COMPLETE=complete_<shell>` and the words typed so far (COMP_WORDS and COMP_CWORD
from bash; _TYPER_COMPLETE_ARGS from zsh, fish and PowerShell). This module answers from
commandtable.py, a table of the app's commands, options and arguments generated from the
app (scripts/gen_completion_table.py), with the standard library (and platformdirs, for the
config directory of the environment names):

    nexla [COMMAND…] PREFIX                  the commands of a group
    nexla COMMAND… [ARGS…] -PREFIX           the options of a command
    nexla COMMAND… [ARGS…] --env|-e WORD     environment names (and `env use|remove|configure`)
    nexla help [COMMAND…] PREFIX             the commands of a group
    nexla token exec [OPTIONS] -- WORD…      another program's command line: left to the shell

It reads the words as Typer's completion does (click's _resolve_context and
_resolve_incomplete, mirrored over the table), and its answer is, byte for byte and down to
the exit code, the one the full app gives through Typer and completion.py
(tests/app/test_completion_parity.py compares the two over every command and option).
Anything the table does not cover (a value only Typer knows how to complete, an option
spelled in a way the table does not list, an unknown shell, any surprise) returns None,
having printed nothing, and main.py runs Typer's completion instead.

Names are never file names, so when none matches, the shell is told not to fall back to
completing files (bash through the NO_FILES line, zsh by an empty answer, fish by `is-args`
succeeding): environment names, command names and option names alike. Files are offered
only for a value nexla has no completer for (`api --input FILE`, `api PATH`). PowerShell
still falls back to paths when nothing matches.

For `token exec … -- COMMAND [ARGS…]` the answer tells the shell where COMMAND begins (the
COMMAND_LINE line for bash and fish, code to evaluate for zsh): the shell completes
COMMAND itself, as it does after `sudo` or `env`, because it knows the aliases and
functions nexla cannot see, and then hands COMMAND's arguments to COMMAND's own completion
(zsh, fish) or to file names (bash).
"""

from __future__ import annotations

import os
import sys

from nexla_cli.fast.commandtable import COMMANDS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Final

    from nexla_cli.core.identities import Candidate
    from nexla_cli.fast.commandtable import Command, Completer
    from nexla_cli.storage.store import Environment

    # What to offer: (value, help or None) each, and whether files must not be offered
    # instead when none matches.
    Offer = tuple[list[tuple[str, str | None]], bool]

# A line the bash script reads as "offer no files", never a candidate: no command, option
# or environment name starts with a colon.
NO_FILES = ":nofiles"
# A line the bash and fish scripts read as "another program's command line begins at word
# N" (`:command 4`; the program's name is word 0).
COMMAND_LINE = ":command"
# What a stored name may hold to be offered: the characters of a normalised host name with
# a port. A hand-edited store can hold anything; nothing else reaches the terminal.
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.:[]")

# The fields of a commandtable entry, and of one of its options.
_HELP: Final = 0
_SUBCOMMANDS: Final = 1
_INTERSPERSED: Final = 2
_OPTIONS: Final = 3
_ARGUMENTS: Final = 4
_NAMES: Final = 0
_OPTION_HELP: Final = 1
_TAKES_VALUE: Final = 2
_MULTIPLE: Final = 3
_HIDDEN: Final = 4
_COMPLETER: Final = 5


class CommandLine:
    """Another program's command line, from word `start` of the line (`nexla` is word 0)."""

    def __init__(self, start: int) -> None:
        self.start = start

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CommandLine) and other.start == self.start

    def __repr__(self) -> str:
        return f"CommandLine({self.start})"


if TYPE_CHECKING:
    # What a TAB press is answered with: candidates, or where another program's line begins.
    Answer = Offer | CommandLine

# What _argument_being_typed says when every argument has its words.
_ALL_GIVEN = "all given"


def _stored_environments(environ: Mapping[str, str]) -> dict[str, Environment]:
    """The store's environments, read with no request and no lock; none when unreadable."""
    from nexla_cli.core import paths
    from nexla_cli.core.errors import NexlaError
    from nexla_cli.storage.store import read_store

    try:
        return read_store(paths.credentials_path(environ)).environments
    except (NexlaError, OSError):
        return {}


def env_names(incomplete: str, environ: Mapping[str, str]) -> list[str]:
    """The configured environment names that start with `incomplete`, in stored order.

    Read from the store with no request and no lock; an unreadable store offers none.
    Both completion paths (this module's and Typer's) take their names from here.
    """
    return [
        name
        for name in _stored_environments(environ)
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
    from nexla_cli.core import identities

    offered: list[str] = []
    for env in _stored_environments(environ).values():
        orgs = []
        for identity in env.identities():
            session = identity.session_unless_damaged()
            stored_org = (session.org if session is not None else None) or {}
            orgs.append(
                identities.Candidate(None, None, stored_org.get("id"), stored_org.get("name"))
            )
        for org in orgs:
            word = _org_word(org, orgs)
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


def _org_word(org: Candidate, orgs: list[Candidate]) -> str | None:
    """What TAB offers for `org` among an environment's `orgs`: its name when that is a
    plain word that `--org` takes for this org alone (as the choice itself matches names:
    core/identities.py), else its id when that is one, else nothing."""
    from nexla_cli.core import identities

    name, org_id = org.org_name, org.org_id
    if _plain_word(name):
        assert isinstance(name, str)
        chosen = identities.in_org(orgs, name)
        if all(identities.same_key((None, each.org_id), (None, org_id)) for each in chosen):
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
    answer = answer_for(words[1:cword], incomplete)
    if answer is None:
        return None
    return _write(bash_text(answer))


def _zsh() -> int | None:
    args, incomplete = _args_and_incomplete()
    answer = answer_for(args, incomplete)
    if answer is None:
        return None
    return _write(zsh_text(answer))


def _fish() -> int | None:
    action = os.environ.get("_TYPER_COMPLETE_FISH_ACTION", "")
    if action not in ("get-args", "is-args"):
        return None
    args, incomplete = _args_and_incomplete()
    answer = answer_for(args, incomplete)
    if answer is None:
        return None
    if action == "is-args":
        # Success: nexla's answer stands, and fish offers no files of its own.
        return 0 if fish_claims(answer) else 1
    return _write(fish_text(answer))


def _powershell() -> int | None:
    incomplete = os.environ.get("_TYPER_COMPLETE_WORD_TO_COMPLETE", "")
    words = split_arg_string(os.environ.get("_TYPER_COMPLETE_ARGS", ""))
    args = words[1:-1] if incomplete else words[1:]
    answer = answer_for(args, incomplete)
    if answer is None:
        return None
    return _write(powershell_text(answer))


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


# The answer in each shell's terms: what Typer's completion classes and completion.py write.


def bash_text(answer: Answer) -> str:
    if isinstance(answer, CommandLine):
        return f"{COMMAND_LINE} {answer.start}"
    items, no_files = answer
    lines = [value for value, _ in items]
    return "\n".join([NO_FILES, *lines] if no_files else lines)


def zsh_text(answer: Answer) -> str:
    if isinstance(answer, CommandLine):
        # What zsh's own _precommand does after `sudo`: the line from COMMAND on is a line
        # of its own, completed as any command line is (its name, then its own completion).
        shift = answer.start
        return f"shift {shift} words; (( CURRENT -= {shift} )); _normal"
    items, no_files = answer
    if not items:
        return "" if no_files else "_files"
    candidates = "\n".join(
        f'"{_zsh_escape(value)}":"{_zsh_escape(help)}"' if help else f'"{_zsh_escape(value)}"'
        for value, help in items
    )
    return f"_arguments '*: :(({candidates}))'"


def fish_claims(answer: Answer) -> bool:
    """Whether `is-args` succeeds: the answer stands and fish adds no files of its own."""
    return isinstance(answer, CommandLine) or bool(answer[0]) or answer[1]


def fish_text(answer: Answer) -> str:
    if isinstance(answer, CommandLine):
        return f"{COMMAND_LINE} {answer.start}"
    # Typer writes each blank of a help text (newlines, tabs) as a space.
    return "\n".join(
        f"{value}\t{''.join(' ' if c.isspace() else c for c in help)}" if help else value
        for value, help in answer[0]
    )


def powershell_text(answer: Answer) -> str:
    if isinstance(answer, CommandLine):
        return ""  # PowerShell completes paths, as with nothing to offer
    return "\n".join(f"{value}:::{help if help else ' '}" for value, help in answer[0])


# What the words typed so far ask for: click's rules, over the table.


def answer_for(args: list[str], incomplete: str) -> Answer | None:
    """What to offer for `incomplete` after `args` (the words after `nexla`); None when
    only Typer's completion can say.

    This is click's rule (typer._click.shell_completion._resolve_incomplete) over the
    table; the parity tests hold it to that.
    """
    args = list(args)
    if incomplete == "=":
        incomplete = ""
    elif "=" in incomplete and incomplete.startswith("-"):
        name, _, incomplete = incomplete.partition("=")
        args.append(name)
    walked = _walk(args)
    if walked is None:
        return None
    path, given, positionals = walked
    command = COMMANDS[path]
    if "--" not in args and incomplete.startswith("-"):
        return _commands_and_options(path, given, incomplete), True
    last = args[-1] if args else ""
    if last.startswith("-"):
        for option in command[_OPTIONS]:
            if option[_TAKES_VALUE] > 1:
                return None  # click looks further back for those
            if option[_TAKES_VALUE] == 1 and last in option[_NAMES]:
                return _complete(option[_COMPLETER], incomplete, (), 0)
    argument = _argument_being_typed(command, len(positionals))
    if argument is None:
        return None
    if argument == _ALL_GIVEN:
        # Nothing is open: a group's commands, else nothing (and no files).
        return _commands_and_options(path, given, incomplete), True
    return _complete(argument, incomplete, tuple(positionals), 1 + len(args) - len(positionals))


def _walk(args: list[str]) -> tuple[tuple[str, ...], set[int], list[str]] | None:
    """The command the words lead to, the options given to it (their places in its
    table entry) and its arguments so far; None for words the table cannot follow."""
    path: tuple[str, ...] = ()
    given: set[int] = set()
    positionals: list[str] = []
    rest_is_arguments = False
    index = 0
    while index < len(args):
        word = args[index]
        index += 1
        command = COMMANDS[path]
        is_group = command[_SUBCOMMANDS] is not None
        if rest_is_arguments:
            positionals.append(word)
        elif word == "--":
            if is_group:
                return None
            rest_is_arguments = True
        elif word.startswith("-") and len(word) > 1:
            found = _find_option(command, word)
            if found is None:
                return None
            place, takes_value, inline = found
            if takes_value > 1:
                return None
            if takes_value and not inline and index < len(args):
                index += 1  # its value, whatever it looks like
            given.add(place)
        elif is_group:
            path = (*path, word)
            if path not in COMMANDS:
                return None
            given, positionals = set(), []
        else:
            positionals.append(word)
            rest_is_arguments = not command[_INTERSPERSED]
    return path, given, positionals


def _find_option(command: Command, word: str) -> tuple[int, int, bool] | None:
    """(place, how many values it takes, value given after `=`) of the option `word` names."""
    name, equals, _ = word.partition("=") if word.startswith("--") else (word, "", "")
    for place, option in enumerate(command[_OPTIONS]):
        if name in option[_NAMES]:
            if equals and not option[_TAKES_VALUE]:
                return None  # click refuses a value for a flag
            return place, option[_TAKES_VALUE], bool(equals)
    return None


def _argument_being_typed(command: Command, given: int) -> Completer | None:
    """The completer of the first argument still open with `given` words given to the
    arguments ("none" for none); _ALL_GIVEN when none is open; None when the table cannot
    tell."""
    for words, completer in command[_ARGUMENTS]:
        if words == -1:
            return completer or "none"
        if words != 1:
            return None
        if given == 0:
            return completer or "none"
        given -= 1
    return _ALL_GIVEN


def _complete(
    completer: Completer, incomplete: str, words: tuple[str, ...], start: int
) -> Answer | None:
    """The answer of one completer for `incomplete`; `words`: the argument's words so far,
    `start`: where they begin on the line."""
    if isinstance(completer, tuple):  # choices: names too, never files
        return _names([choice for choice in completer if choice.startswith(incomplete)])
    if completer == "environment names":
        return _names(env_names(incomplete, os.environ))
    if completer == "org names":
        return _names(org_names(incomplete, os.environ))
    if completer == "command names":
        return _subcommands(words, incomplete), True
    if completer == "command line":
        return CommandLine(start)
    if completer in ("", "none"):
        return [], False  # a value nexla cannot guess: the shell's own (files)
    return None


def _names(values: list[str]) -> Offer:
    """Names with no help line, and never files instead."""
    offered: list[tuple[str, str | None]] = [(value, None) for value in values]
    return offered, True


def _subcommands(path: tuple[str, ...], incomplete: str) -> list[tuple[str, str | None]]:
    command = COMMANDS.get(path)
    if command is None or command[_SUBCOMMANDS] is None:
        return []
    return [
        (name, COMMANDS[path + (name,)][_HELP] or None)
        for name in command[_SUBCOMMANDS]
        if name.startswith(incomplete)
    ]


def _commands_and_options(
    path: tuple[str, ...], given: set[int], incomplete: str
) -> list[tuple[str, str | None]]:
    """As click's Group and Command shell_complete: subcommands, then options not given
    yet (unless repeatable) when the word starts like one."""
    offered = _subcommands(path, incomplete)
    if incomplete and not incomplete[0].isalnum():
        for place, option in enumerate(COMMANDS[path][_OPTIONS]):
            if option[_HIDDEN] or (place in given and not option[_MULTIPLE]):
                continue
            offered.extend(
                (name, option[_OPTION_HELP])
                for name in option[_NAMES]
                if name.startswith(incomplete)
            )
    return offered


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
