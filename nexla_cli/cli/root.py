"""The root `nexla` command: global options, sub-apps, and errors mapped to exit codes."""

import enum
import functools
from typing import Annotated, List, Optional, Tuple

import typer
import typer.main

from nexla_cli.cli.commands.api import api
from nexla_cli.cli.commands.common import Command, Group
from nexla_cli.cli.commands.env import env_app
from nexla_cli.cli.commands.token import token_app
from nexla_cli.core import settings, suggest
from nexla_cli.core.errors import ExitCode, NetworkError, NexlaError, UsageError, network_hint
from nexla_cli.core.version import __version__
from nexla_cli.deps import Deps

ROOT_HELP = """Sign in to Nexla environments and keep session tokens alive for shells and scripts.

New here? Start with `nexla env configure`: it asks for your Nexla host, opens its token
page in the browser and keeps the token you paste there. `nexla help COMMAND` says more
about any command.

\b
Examples:
  nexla env configure
  nexla token print
  nexla api /users/current
  nexla help env configure
"""

app = typer.Typer(
    cls=Group,
    name="nexla",
    help=ROOT_HELP,
    no_args_is_help=True,
    # Plain help and errors: no rich at start-up, one-line errors we format ourselves.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(env_app, name="env", short_help="Sign in to Nexla environments and manage them.")
app.add_typer(token_app, name="token", short_help="Session tokens for shell jobs and scripts.")
app.command("api", cls=Command, short_help="Call the Nexla API with the stored session.")(api)


def complete_command_names(ctx: typer.Context, incomplete: str) -> List[Tuple[str, str]]:
    """For TAB after `nexla help [WORDS]`: the commands of the group WORDS name, each with
    the help line shown beside it; none (and no file names) when WORDS name no group."""
    from nexla_cli.cli.completion import TabPress

    TabPress.names_offered = True  # command names are never files
    target = ctx.find_root()
    for word in ctx.params.get("path") or ():
        found = getattr(target.command, "get_command", lambda _ctx, _name: None)(target, word)
        if found is None:
            return []
        target = typer.Context(found, info_name=word, parent=target)
    group = target.command
    if not isinstance(group, Group):
        return []
    commands = [(name, group.commands[name]) for name in group.list_commands(target)]
    return [
        (name, command.get_short_help_str())
        for name, command in commands
        if name.startswith(incomplete) and not command.hidden
    ]


@app.command("help", cls=Command, short_help="Show help for a command, as --help does.")
def help_command(
    ctx: typer.Context,
    path: Annotated[
        Optional[List[str]],
        typer.Argument(
            metavar="[COMMAND]...",
            help="The command, e.g. env configure.",
            autocompletion=complete_command_names,
        ),
    ] = None,
) -> None:
    """Show help for nexla or for one of its commands: `nexla help X` is `nexla X --help`.

    \b
    Examples:
      nexla help
      nexla help env
      nexla help env configure
    """
    target = ctx.find_root()
    for word in path or []:
        found = getattr(target.command, "get_command", lambda _ctx, _name: None)(target, word)
        if found is None:
            shown = target.command_path
            names: List[str] = getattr(target.command, "list_commands", lambda _ctx: [])(target)
            closest = suggest.did_you_mean(suggest.close_names(word, names))
            message = f"No such command: {shown} {word}" + (f".{closest}" if closest else "")
            raise UsageError(message, hint=f"see `{shown} --help`")
        target = typer.Context(found, info_name=word, parent=target)
    ctx.obj.out.result(target.get_help())


class CompletionShell(str, enum.Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"
    powershell = "powershell"


@app.command("completion", cls=Command, short_help="Print the TAB completion script for a shell.")
def completion_command(
    ctx: typer.Context,
    shell: Annotated[
        CompletionShell,
        typer.Argument(metavar="SHELL", help="bash, zsh, fish or powershell."),
    ],
) -> None:
    """Print the script that makes TAB complete nexla's commands, options and names in
    SHELL; the files in completions/ hold the same. The README says where each goes.

    \b
    Examples:
      nexla completion bash > ~/.local/share/bash-completion/completions/nexla
      nexla completion zsh > ~/.zfunc/_nexla
      nexla completion fish > ~/.config/fish/completions/nexla.fish
      nexla completion powershell >> $PROFILE
    """
    from nexla_cli.cli.completion import script

    ctx.obj.out.result(script(shell.value))


def _show_version(ctx: typer.Context, value: bool) -> None:
    # Not while TAB is completing a line that holds --version: the version is no candidate.
    if value and not ctx.resilient_parsing:
        ctx.obj.out.result(f"nexla {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", callback=_show_version, is_eager=True
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help="Log HTTP requests (credentials redacted) and tracebacks. Accepted anywhere "
            "on the line; NEXLA_DEBUG=1 does the same.",
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="No messages on success (warnings and errors are still shown; results on "
            "stdout are unchanged). Accepted anywhere on the line; NEXLA_QUIET=1 does the same.",
        ),
    ] = False,
) -> None:
    if quiet:
        ctx.obj.quiet = True
    if debug:
        ctx.obj.debug = True
    # Every NEXLA_* setting, whether or not this command would use it: a typo fails now.
    settings.check_all(ctx.obj.environ)


DEBUG_VARIABLE = "NEXLA_DEBUG"
QUIET_FLAGS = ("-q", "--quiet")


def _take_global_flags(deps: Deps, args: List[str]) -> List[str]:
    """Turn on debugging for `--debug` anywhere before `--` (and for NEXLA_DEBUG=1), quiet
    for `-q`/`--quiet` (NEXLA_QUIET is Deps's to read); the arguments without them. Words
    after `--` belong to another program and stay as they are.
    """
    if deps.environ.get(DEBUG_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on"):
        deps.debug = True
    end = _end_of_own_words(args)
    own = args[:end]
    if "--debug" in own:
        deps.debug = True
    if any(arg in QUIET_FLAGS for arg in own):
        deps.quiet = True
    kept = [arg for arg in own if arg != "--debug" and arg not in QUIET_FLAGS]
    return kept + args[end:]


# Options of `token exec` that take a value: the word after them is not COMMAND.
_EXEC_VALUE_OPTIONS = ("--env", "-e", "--min-ttl")


def _end_of_own_words(args: List[str]) -> int:
    """Where the words that belong to another program begin: after `--`, or at the COMMAND
    of `token exec COMMAND [ARGS…]` (its options are its own, `--debug` included)."""
    end = args.index("--") if "--" in args else len(args)
    words = args[:end]
    if words[:2] != ["token", "exec"]:
        return end
    index = 2
    while index < end:
        word = words[index]
        if word in _EXEC_VALUE_OPTIONS:
            index += 2
        elif word.startswith("-"):
            index += 1
        else:
            return index  # COMMAND
    return end


def _command_path(args: List[str]) -> str:
    """`nexla env login` for the words of a command line that name a command."""
    words = [arg for arg in args if not arg.startswith("-")]
    groups = {group.name for group in app.registered_groups}
    commands = {command.name for command in app.registered_commands}
    if words and words[0] in groups:
        return " ".join(["nexla", *words[:2]])
    if words and words[0] in commands:
        return f"nexla {words[0]}"
    return "nexla"


@functools.lru_cache(maxsize=None)
def _click_command() -> "typer._click.Command":
    """The Click command Typer builds from `app`, built once per process: building it reads
    every command's signature (about 10 ms), which a process running the app many times
    (the tests) would otherwise pay on every run. It holds no state of a run."""
    return typer.main.get_command(app)


def run(args: List[str], deps: Deps) -> int:
    """Run the app with this run's dependencies; every outcome becomes an exit code, never a
    traceback. Commands find `deps` as their context's `obj`."""
    from typer._click import exceptions as click_exceptions
    from typer.exceptions import Abort

    from nexla_cli.ui.output import ReaderLeft

    output = deps.out
    args = _take_global_flags(deps, list(args))
    try:
        result = _click_command().main(
            args=args, prog_name="nexla", standalone_mode=False, obj=deps
        )
    except NexlaError as exc:
        hint = exc.hint
        if not hint and isinstance(exc, UsageError):
            # A usage error always has a next step: the command's own help.
            hint = f"see `{_command_path(args)} --help`"
        elif not hint and isinstance(exc, NetworkError):
            hint = network_hint(exc.message)
        output.error(exc.message, hint)
        return int(exc.exit_code)
    except click_exceptions.NoArgsIsHelpError as exc:
        # `nexla` or `nexla env` alone asks what there is: the help, as with --help.
        output.result(exc.ctx.get_help())
        return int(ExitCode.OK)
    except click_exceptions.ClickException as exc:
        # Only some click errors (UsageError and its kin) know their command.
        if isinstance(exc, click_exceptions.NoSuchOption) and exc.possibilities:
            # click offers any option difflib finds at its loose default; only a close one.
            exc.possibilities = suggest.close_names(exc.option_name, exc.possibilities)
        failed_in = getattr(exc, "ctx", None)
        command = failed_in.command_path if failed_in else "nexla"
        output.error(exc.format_message(), hint=f"see `{command} --help`")
        return exc.exit_code
    except (Abort, KeyboardInterrupt):
        output.tell("")
        return int(ExitCode.INTERRUPTED)
    except (ReaderLeft, BrokenPipeError):
        # The reader left early (`| head`): nothing more is wanted, and nothing is wrong.
        return int(ExitCode.READER_LEFT)
    except Exception as exc:  # a bug: say so in one line, details with --debug
        if deps.debug and deps.streams.stderr is not None:
            import traceback

            traceback.print_exc(file=deps.streams.stderr)
        output.error(f"unexpected {type(exc).__name__}", hint="this is a bug; rerun with --debug")
        return int(ExitCode.BUG)
    if result == int(ExitCode.INTERRUPTED):
        output.tell("")
    return result if isinstance(result, int) else 0
