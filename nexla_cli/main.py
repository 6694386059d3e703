"""Console-script entry point."""

import sys


def main() -> None:
    from nexla_cli.cli import run

    sys.exit(run())
