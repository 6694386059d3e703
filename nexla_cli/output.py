"""Messages for people on stderr; results on stdout.

Standard library at import time: rich is loaded only where colour or a spinner is
actually shown (a terminal, NO_COLOR unset, TERM not `dumb`).

Streams are not always there: a script may close stderr (`2>&-`) or stdout (`>&-`), point
them at a full disk, or run with an encoding that cannot write a user's name. A message
that cannot go to stderr is dropped (never sent to stdout, where a script reads the token);
a result that cannot be written is an error (exit 3); text the encoding cannot hold is
written with escapes instead.
"""

import contextlib
import json
import os
import sys
from collections.abc import Iterator

from nexla_cli.errors import ConfigError
from nexla_cli.text import escape_controls

# Set by the root command's --debug option.
DEBUG = False


class OutputError(ConfigError):
    """stdout is closed or cannot be written: the result the user asked for is lost."""


def use_colour(stream=None) -> bool:
    """Escape sequences only on a terminal that understands them, never with NO_COLOR."""
    stream = stream or sys.stderr
    if "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb":
        return False
    return stream is not None and _isatty(stream)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _encodable(text: str, stream) -> str:
    """text as the stream's encoding can write it: what it cannot hold becomes escapes."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        pass
    return text


def _to_stderr(line: str) -> None:
    """One line on stderr, or nothing at all when stderr is closed or cannot be written."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(_encodable(line, stream) + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


def info(message: str) -> None:
    _to_stderr(escape_controls(message))


def warn(message: str) -> None:
    _to_stderr(_styled("warning:", "yellow") + " " + escape_controls(message))


def error(message: str, hint: str = "") -> None:
    # One line each: a newline in a server's message must not forge a second `error:` line.
    _to_stderr(_styled("error:", "red") + " " + escape_controls(message))
    if hint:
        _to_stderr("hint: " + escape_controls(hint))


def debug(message: str) -> None:
    if DEBUG:
        _to_stderr("debug: " + escape_controls(message))


def _styled(text: str, colour: str) -> str:
    if not use_colour():
        return text
    codes = {"red": "31", "yellow": "33", "green": "32", "bold": "1"}
    return f"\033[{codes[colour]}m{text}\033[0m"


def result(text: str) -> None:
    """A result line on stdout; OutputError when it cannot be written there."""
    stream = sys.stdout
    if stream is None:
        raise OutputError("cannot write the result: stdout is closed")
    try:
        stream.write(_encodable(text, stream) + "\n")
        stream.flush()
    except BrokenPipeError:
        raise  # the reader left (`| head`): cli.run ends quietly
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or "it is closed"
        raise OutputError(f"cannot write the result to stdout: {reason}") from None


def display(text: str) -> None:
    """A result line for people on stdout (`env list`, `env show`, `token status`): what
    came from a server or a file is shown with its control characters escaped."""
    result(escape_controls(text))


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
