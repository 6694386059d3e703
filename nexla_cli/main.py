"""Console-script entry point (also behind `python -m nexla_cli`).

Start-up is most of what `nexla token print` and a TAB press cost, so this module imports
only `sys` and `os`. A fresh `token print` is answered by fastpath.py without Typer, and a
TAB press on an environment name by fastcomplete.py; other TAB presses load the completion
classes; everything else runs the full app in cli.py.
"""

import os
import sys

# Typer derives the variable from the program name: `_NEXLA_COMPLETE=complete_bash nexla`.
COMPLETE_VARIABLE = "_NEXLA_COMPLETE"


def main() -> None:
    completing = bool(os.environ.get(COMPLETE_VARIABLE))
    if not completing:
        from nexla_cli.fastpath import token_print

        code = token_print(sys.argv[1:])
        if code is not None:
            sys.exit(code)
    else:
        from nexla_cli.fastcomplete import complete

        code = complete(os.environ[COMPLETE_VARIABLE])
        if code is not None:
            sys.exit(code)
        from nexla_cli.completion import register

        register()
    from nexla_cli.cli import run

    sys.exit(run())
