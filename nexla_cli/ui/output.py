"""Messages for people on stderr; results on stdout.

Standard library at import time: rich is loaded only where colour or a spinner is
actually shown (a terminal, NO_COLOR unset, TERM not `dumb`).

Streams are not always there: a script may close stderr (`2>&-`) or stdout (`>&-`), point
them at a full disk, or run with an encoding that cannot write a user's name. A message
that cannot go to stderr is dropped (never sent to stdout, where a script reads the token);
a result that cannot be written is an error (exit 3); text the encoding cannot hold is
written with escapes instead.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator

from nexla_cli.core.errors import ConfigError
from nexla_cli.core.text import escape_controls

# For type checkers only: the fast path prints through this module, without `typing`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TextIO

    from nexla_cli.core.runtime import Streams


class OutputError(ConfigError):
    """stdout is closed or cannot be written: the result the user asked for is lost."""


class ReaderLeft(Exception):
    """The reader of stdout left early (EPIPE: `nexla … | head -1`): nothing more is wanted.

    Not an OSError, so that Click's own handling of EPIPE (exit 1) never sees it: cli.root.run
    ends the run quietly with exit 141, as a shell reports a death by SIGPIPE."""


def unwritable(exc: Exception) -> OutputError:
    """The error for a stdout that refused a write (a full disk, a closed descriptor)."""
    reason = getattr(exc, "strerror", None) or "it is closed"
    return OutputError(f"cannot write the result to stdout: {reason}")


def _encodable(text: str, stream: object) -> str:
    """text as the stream's encoding can write it: what it cannot hold becomes escapes."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        pass
    return text


def json_text(data: object, stream: object) -> str:
    """JSON with its characters as they are (`…`, `é`) where the stream's encoding holds
    them; where it does not (LC_ALL=C), all of it in \\u escapes, still the same JSON."""
    import re

    text = json.dumps(data, indent=2, ensure_ascii=False)
    # json.dumps leaves DEL, C1 controls (a terminal may act on them) and lone surrogates
    # (no encoding writes them) as they are; they sit only inside strings, so escape them.
    text = re.sub("[\x7f-\x9f\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", text)
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return json.dumps(data, indent=2)
    except LookupError:
        pass
    return text


_COLOURS = {"red": "31", "yellow": "33", "green": "32", "bold": "1"}

# SetConsoleMode's flag for escape sequences (Windows 10 1511 and later).
ENABLE_VIRTUAL_TERMINAL_PROCESSING = 0x0004


def console_takes_escapes(stream: TextIO | None) -> bool:
    """Whether escape sequences written to `stream` show as colour. Everywhere but Windows
    a terminal does. A Windows console shows them only once asked to (Windows Terminal and
    VS Code do already; a legacy console prints them as `←[33m`): asked here, through
    SetConsoleMode, and False where that fails (before Windows 10, or not a console)."""
    if sys.platform != "win32":
        return True
    if stream is None:
        return False
    try:
        import ctypes
        import msvcrt

        handle = msvcrt.get_osfhandle(stream.fileno())
        kernel32 = ctypes.windll.kernel32
        mode = ctypes.c_uint32()
        if not kernel32.GetConsoleMode(handle, ctypes.byref(mode)):
            return False
        if mode.value & ENABLE_VIRTUAL_TERMINAL_PROCESSING:
            return True
        wanted = mode.value | ENABLE_VIRTUAL_TERMINAL_PROCESSING
        return bool(kernel32.SetConsoleMode(handle, wanted))
    except (ImportError, AttributeError, OSError, ValueError):
        return False


class Output:
    """One run's messages and results, written to its streams.

    `environ` decides colour (NO_COLOR, TERM); `debug` says whether debug lines are shown,
    `quiet` whether messages on success are left out (-q, NEXLA_QUIET): both asked each
    time, as the flags are parsed after the run's Output may exist.
    """

    def __init__(
        self,
        streams: Streams,
        environ: Mapping[str, str],
        *,
        debug: Callable[[], bool],
        quiet: Callable[[], bool] = lambda: False,
    ) -> None:
        self.streams = streams
        self._environ = environ
        self._debug = debug
        self._quiet = quiet
        self._escapes_shown: bool | None = None  # asked once, when colour is first wanted

    def use_colour(self, stdout: bool = False) -> bool:
        """Escape sequences only on a terminal that understands them, never with NO_COLOR."""
        environ = self._environ
        if "NO_COLOR" in environ or environ.get("TERM") == "dumb":
            return False
        streams = self.streams
        if stdout:
            return streams.stdout is not None and streams.stdout_tty
        return streams.stderr is not None and streams.stderr_tty

    def _to_stderr(self, line: str) -> None:
        """One line on stderr, or nothing at all when stderr is closed or cannot be written."""
        self.prompt(line + "\n")

    def prompt(self, text: str) -> None:
        """Text on stderr as it is, no newline added (a prompt's label); nothing when stderr
        is closed or cannot be written."""
        stream = self.streams.stderr
        if stream is None:
            return
        try:
            stream.write(_encodable(text, stream))
            stream.flush()
        except (OSError, ValueError):
            pass

    def info(self, message: str) -> None:
        """A message on success or progress: left out when quiet, so that cron mails nothing
        when all went well."""
        if not self._quiet():
            self._to_stderr(escape_controls(message))

    def tell(self, message: str) -> None:
        """A line the person must see even when quiet: what to open or paste while signing
        in, the hint of a failure reported without an error line."""
        self._to_stderr(escape_controls(message))

    def warn(self, message: str) -> None:
        self._to_stderr(self._styled("warning:", "yellow") + " " + escape_controls(message))

    def error(self, message: str, hint: str = "") -> None:
        # One line each: a newline in a server's message must not forge a second `error:`.
        self._to_stderr(self._styled("error:", "red") + " " + escape_controls(message))
        if hint:
            self._to_stderr("hint: " + escape_controls(hint))

    def debug(self, message: str) -> None:
        if self._debug():
            self._to_stderr("debug: " + escape_controls(message))

    def _styled(self, text: str, colour: str) -> str:
        if not self.use_colour():
            return text
        if self._escapes_shown is None:
            self._escapes_shown = console_takes_escapes(self.streams.stderr)
        if not self._escapes_shown:
            return text
        return f"\033[{_COLOURS[colour]}m{text}\033[0m"

    def result(self, text: str) -> None:
        """A result line on stdout; OutputError when it cannot be written there."""
        stream = self.streams.stdout
        if stream is None:
            raise OutputError("cannot write the result: stdout is closed")
        try:
            stream.write(_encodable(text, stream) + "\n")
            stream.flush()
        except BrokenPipeError:
            raise ReaderLeft() from None
        except (OSError, ValueError) as exc:
            raise unwritable(exc) from None

    def display(self, text: str) -> None:
        """A result line for people on stdout (`env list`, `env show`, `token status`): what
        came from a server or a file is shown with its control characters escaped."""
        self.result(escape_controls(text))

    def json_result(self, data: object) -> None:
        self.result(json_text(data, self.streams.stdout))

    @contextlib.contextmanager
    def spinner(self, message: str, delay: float = 0.0) -> Iterator[None]:
        """A spinner on stderr once the body has run longer than `delay` seconds.

        Only on a terminal, never with NO_COLOR; rich is imported only if it is shown.
        """
        stderr = self.streams.stderr
        if not self.use_colour() or stderr is None:
            yield
            return
        import threading

        lock = threading.Lock()
        state: dict[str, Any] = {"done": False, "status": None}

        def start() -> None:
            with lock:
                if state["done"]:
                    return
                from rich.console import Console

                status = Console(file=stderr, force_terminal=True).status(message)
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
