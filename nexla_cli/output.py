"""Messages for people on stderr; results on stdout.

Standard library at import time: rich is loaded only where colour or a spinner is
actually shown (a terminal, NO_COLOR unset).
"""

import contextlib
import json
import os
import sys
from collections.abc import Iterator

# Set by the root command's --debug option.
DEBUG = False


def use_colour(stream=None) -> bool:
    stream = stream or sys.stderr
    return "NO_COLOR" not in os.environ and _isatty(stream)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def info(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def warn(message: str) -> None:
    print(_styled("warning:", "yellow") + " " + message, file=sys.stderr, flush=True)


def error(message: str, hint: str = "") -> None:
    print(_styled("error:", "red") + " " + message, file=sys.stderr, flush=True)
    if hint:
        print(f"hint: {hint}", file=sys.stderr, flush=True)


def debug(message: str) -> None:
    if DEBUG:
        print(f"debug: {message}", file=sys.stderr, flush=True)


def _styled(text: str, colour: str) -> str:
    if not use_colour():
        return text
    codes = {"red": "31", "yellow": "33", "green": "32", "bold": "1"}
    return f"\033[{codes[colour]}m{text}\033[0m"


def result(text: str) -> None:
    """A result line on stdout."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def json_result(data: object) -> None:
    result(json.dumps(data, indent=2, sort_keys=False))


@contextlib.contextmanager
def spinner(message: str, delay: float = 0.0) -> Iterator[None]:
    """A spinner on stderr once the body has run longer than `delay` seconds.

    Only on a terminal, never with NO_COLOR; rich is imported only if it is shown.
    """
    if not use_colour():
        yield
        return
    import threading

    lock = threading.Lock()
    state: dict = {"done": False, "status": None}

    def start() -> None:
        with lock:
            if state["done"]:
                return
            from rich.console import Console

            status = Console(stderr=True).status(message)
            status.start()
            state["status"] = status

    timer = threading.Timer(delay, start)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            state["done"] = True
            if state["status"] is not None:
                state["status"].stop()
