"""The root `nexla` command: global options, sub-apps, and errors mapped to exit codes."""

import sys
from typing import Annotated, List, Optional

import typer

from nexla_cli import __version__, output, settings
from nexla_cli.commands.api import api
from nexla_cli.commands.env import env_app
from nexla_cli.commands.token import token_app
from nexla_cli.errors import ExitCode, NexlaError

app = typer.Typer(
    name="nexla",
    help="Sign in to Nexla environments and keep session tokens alive for shells and scripts.",
    no_args_is_help=True,
    # Plain help and errors: no rich at start-up, one-line errors we format ourselves.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(env_app, name="env")
app.add_typer(token_app, name="token")
app.command("api")(api)


def _show_version(value: bool) -> None:
    if value:
        output.result(f"nexla {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", callback=_show_version, is_eager=True
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Log HTTP requests (credentials redacted) and tracebacks."),
    ] = False,
) -> None:
    output.DEBUG = debug
    # Every NEXLA_* setting, whether or not this command would use it: a typo fails now.
    settings.check_all()


def run(args: Optional[List[str]] = None) -> int:
    """Run the app; every outcome becomes an exit code, never a traceback."""
    from typer._click import exceptions as click_exceptions
    from typer.exceptions import Abort

    try:
        result = app(args=args, prog_name="nexla", standalone_mode=False)
    except NexlaError as exc:
        output.error(exc.message, exc.hint)
        return int(exc.exit_code)
    except click_exceptions.NoArgsIsHelpError as exc:
        exc.show()  # `nexla` or `nexla env` alone: the help, on stderr, exit 2 as click does
        return exc.exit_code
    except click_exceptions.ClickException as exc:
        command = exc.ctx.command_path if getattr(exc, "ctx", None) else "nexla"
        output.error(exc.format_message(), hint=f"see `{command} --help`")
        return exc.exit_code
    except (Abort, KeyboardInterrupt):
        output.info("")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        return int(ExitCode.BUG)
    except Exception as exc:  # a bug: say so in one line, details with --debug
        if output.DEBUG and sys.stderr is not None:
            import traceback

            traceback.print_exc()
        output.error(f"unexpected {type(exc).__name__}", hint="this is a bug; rerun with --debug")
        return int(ExitCode.BUG)
    if result == int(ExitCode.INTERRUPTED):
        output.info("")
    return result if isinstance(result, int) else 0
