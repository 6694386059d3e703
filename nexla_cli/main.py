"""Console-script entry point (also behind `python -m nexla_cli`).

Start-up is most of what `nexla token print` and a TAB press cost, so this module imports
only `sys` and `os`. A fresh `token print` is answered by fast/fastpath.py without Typer,
and a TAB press by fast/fastcomplete.py (from a table generated from the app); the few TAB
presses the table does not cover load the completion classes (cli/completion.py);
everything else runs the full app in cli/root.py.

`main` is the only place that looks at the real process: it builds the run's Deps from
os.environ, sys's streams and the real clock. `run` is the program itself, given its
arguments and Deps; tests call it in-process (tests/support/inprocess.py).
"""

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nexla_cli.deps import Deps

# Typer derives the variable from the program name: `_NEXLA_COMPLETE=complete_bash nexla`.
COMPLETE_VARIABLE = "_NEXLA_COMPLETE"


def main() -> None:
    if os.environ.get(COMPLETE_VARIABLE):
        # Before Deps: most TAB presses need none of it (a command or option name is
        # answered from a table), and importing it costs more than the answer.
        from nexla_cli.fast.fastcomplete import complete

        code = complete(os.environ[COMPLETE_VARIABLE])
        if code is not None:
            sys.exit(code)
    from nexla_cli.deps import Deps

    deps = Deps.from_process()
    if os.environ.get(COMPLETE_VARIABLE):
        from nexla_cli.cli.completion import register

        register()
        from nexla_cli.cli.root import run as run_app

        sys.exit(run_app(sys.argv[1:], deps))
    sys.exit(run(sys.argv[1:], deps))


def run(argv: "list[str]", deps: "Deps") -> int:
    """The exit code of `nexla ARGV` run with `deps`."""
    from nexla_cli.fast.fastpath import token_print

    code = token_print(argv, deps)
    if code is not None:
        return code
    from nexla_cli.cli.root import run as run_app

    return run_app(argv, deps)
