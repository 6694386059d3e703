"""Running a console example of the docs (tests/support/doc_blocks.py) in this process, as
a person at a terminal would see it, against the fake Nexla API.

- `ExampleHosts` points the examples' host names (dataops.nexla.io, beta.nexla.com, …) at the
  fake server: this process's `socket.getaddrinfo` answers for them with the server's
  loopback address and port, so the URLs, the TLS name check and what `nexla` prints are
  those of the example (the server's certificate covers these names). A name can be made
  unreachable instead (a port that refuses connections).
- `Shell` runs the `$ ` lines: `nexla …` (in-process, with a pseudo-terminal as stdin, and
  stdout and stderr on one screen in the order written), `VAR=value nexla …`,
  `eval "$(nexla …)"`, `export NAME=value` and `unset NAME…`. Anything else is refused: a
  block that needs another program says so with `<!-- not run: … -->`.
- At a prompt the typist answers: a hidden one (`Enter ACCESS TOKEN:`) with the secret the
  example's setup gave, a visible one with what the example shows typed after it (the
  terminal echoes it, so the screen shows it too); any other prompt gets end of input.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import socket
from collections.abc import Callable, Mapping
from pathlib import Path

from nexla_cli.core.runtime import Streams
from tests.support.inprocess import run_on_streams
from tests.support.ports import closed_port

PROMPT = "$ "
_SUBSTITUTION = re.compile(r"^\$\((nexla\b.*)\)$", re.S)
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


class NotRunnable(Exception):
    """An example line this runner cannot run (another program, a pipe, …)."""


# ---- host names ------------------------------------------------------------------------------


class ExampleHosts:
    """The examples' host names, looked up as the fake server's address (or a refusing port)."""

    SUFFIXES = (".nexla.io", ".nexla.com", ".example.com")

    def __init__(self, monkeypatch, port: int) -> None:
        self.port = port
        self.refusing: set[str] = set()
        real = socket.getaddrinfo

        def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002
            name = host.decode() if isinstance(host, bytes) else str(host)
            target = self.route(name.lower().rstrip("."))
            if target is None:
                return real(host, port, family, type, proto, flags)
            return [
                (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", target))
            ]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    def route(self, name: str) -> int | None:
        """The loopback port `name` leads to, or None for a name left to the real lookup."""
        if not name.endswith(self.SUFFIXES):
            return None
        return closed_port() if name in self.refusing else self.port

    def refuse(self, name: str) -> None:
        """Connections to `name` are refused from now on."""
        self.refusing.add(name)


# ---- one screen for stdout and stderr ------------------------------------------------------


class Screen:
    """What the terminal shows: stdout and stderr in the order written, and the answers
    typed at visible prompts. While `hidden_stdout` is set (a `$(…)`), stdout is kept
    apart instead, as a shell's command substitution takes it."""

    def __init__(self) -> None:
        self.shown = bytearray()
        self.captured = bytearray()
        self.hidden_stdout = False
        self.on_stderr: Callable[[], None] = lambda: None

    def write(self, name: str, data: bytes) -> None:
        if name == "stdout" and self.hidden_stdout:
            self.captured += data
            return
        self.shown += data
        if name == "stderr":
            self.on_stderr()

    def partial_line(self) -> tuple[int, str]:
        """(where it starts, the text) of the last line shown, not yet ended."""
        start = self.shown.rfind(b"\n") + 1
        return start, self.shown[start:].decode("utf-8", "replace")

    def take(self) -> str:
        text = self.shown.decode("utf-8", "replace")
        self.shown.clear()
        return text


class _Sink(io.BufferedIOBase):
    """The bytes under one text stream, handed to the screen as they are written."""

    def __init__(self, screen: Screen, name: str) -> None:
        super().__init__()
        self._screen, self._name = screen, name

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        data = bytes(data)
        self._screen.write(self._name, data)
        return len(data)


def _text_stream(screen: Screen, name: str) -> io.TextIOWrapper:
    errors = "backslashreplace" if name == "stderr" else "strict"
    return io.TextIOWrapper(
        _Sink(screen, name), encoding="utf-8", errors=errors, write_through=True
    )


class _Typist:
    """Answers prompts on the pseudo-terminal's other end: secrets by their label, visible
    prompts with the example's own line, anything else with end of input (Ctrl-D)."""

    def __init__(
        self, screen: Screen, master: int, secrets: Mapping[str, str], expected: list[str]
    ):
        self._screen, self._master = screen, master
        self._secrets, self._expected = secrets, expected
        self._answered_at = -1

    def __call__(self) -> None:
        start, partial = self._screen.partial_line()
        if not partial or start <= self._answered_at:
            return
        self._answered_at = start
        secret = self._secrets.get(partial.strip())
        if secret is not None:
            os.write(self._master, secret.encode() + b"\n")
            return
        typed = next(
            (
                line[len(partial) :]
                for line in self._expected
                if line.startswith(partial) and line != partial
            ),
            None,
        )
        if typed is None:
            os.write(self._master, b"\x04")
            return
        os.write(self._master, typed.encode() + b"\n")
        self._screen.shown += typed.encode() + b"\n"  # the terminal's echo


# ---- the shell -------------------------------------------------------------------------------


class Shell:
    """The `$ ` lines of one example, run one after another with the variables they set."""

    def __init__(
        self, env: Mapping[str, str], cwd: Path, secrets: Mapping[str, str], timeout: float = 20
    ) -> None:
        self.env = dict(env)
        self.cwd = cwd
        self.secrets = dict(secrets)
        self.timeout = timeout

    def run(self, command: str, expected: list[str]) -> list[str]:
        """Run one `$ ` line; the lines the terminal showed for it."""
        words = shlex.split(command)
        assignments = {}
        while words and _ASSIGNMENT.match(words[0]):
            name, value = words.pop(0).split("=", 1)
            assignments[name] = value
        if not words:
            self.env.update(assignments)
            return []
        program, args = words[0], words[1:]
        if program == "nexla" and not {"|", ">", "<", "&&", "||", ";"} & set(args):
            return self._nexla(args, {**self.env, **assignments}, expected).splitlines()
        if program == "eval" and len(args) == 1 and _SUBSTITUTION.match(args[0]):
            return self._eval(_SUBSTITUTION.match(args[0]).group(1), expected)
        if program == "export" and not assignments:
            for word in args:
                name, _, value = word.partition("=")
                self.env[name] = value
            return []
        if program == "unset" and not assignments:
            for name in args:
                self.env.pop(name, None)
            return []
        raise NotRunnable(f"`{command}`: the docs' runner runs nexla, eval, export and unset only")

    def _nexla(self, args: list[str], env: dict[str, str], expected: list[str], *, capture=False):
        screen = Screen()
        screen.hidden_stdout = capture
        master, slave = os.openpty()
        stdin = open(slave, encoding="utf-8", closefd=False)  # noqa: SIM115
        try:
            screen.on_stderr = _Typist(screen, master, self.secrets, expected)
            streams = Streams(
                stdin,
                _text_stream(screen, "stdout"),
                _text_stream(screen, "stderr"),
                stdin_tty=True,
                stdout_tty=not capture,
                stderr_tty=True,
            )
            run_on_streams(
                args, env=env, streams=streams, cwd=self.cwd, timeout=self.timeout
            )
        finally:
            stdin.close()
            os.close(slave)
            os.close(master)
        return (screen.take(), screen.captured.decode()) if capture else screen.take()

    def _eval(self, inner: str, expected: list[str]) -> list[str]:
        """`eval "$(nexla …)"`: stdout is read as `export NAME='value'` lines, stderr shown."""
        words = shlex.split(inner)
        shown, output = self._nexla(words[1:], self.env, expected, capture=True)
        for line in output.splitlines():
            parts = shlex.split(line)
            if len(parts) == 2 and parts[0] == "export" and "=" in parts[1]:
                name, value = parts[1].split("=", 1)
                self.env[name] = value
            elif parts:
                raise NotRunnable(f"`eval` of a line this runner does not read: {line!r}")
        return shown.splitlines()


def run_transcript(shell: Shell, steps: list[tuple[str, list[str]]]) -> list[str]:
    """The whole example as the terminal showed it: each `$ ` line and what followed it."""
    shown: list[str] = []
    for command, expected in steps:
        shown.append(PROMPT + command)
        shown.extend(shell.run(command, expected))
    return shown


def sandbox_paths(lines: list[str], replacements: Mapping[str, str]) -> list[str]:
    """The test's own directories written as the docs' user has them (/home/ada/…)."""
    out = []
    for line in lines:
        for path, shown in replacements.items():
            line = line.replace(path, shown)
        out.append(line)
    return out
