"""Handing a session to other programs: the variables, quoted for shells, and `token exec`.

Nexla's SDK reads `NEXLA_API_URL` and `NEXLA_ACCESS_TOKEN`; this tool reads them too (plus
`NEXLA_ENV`). `token export` prints them for a shell to evaluate, `token exec` starts a
command with them set. Either way the token is frozen at that moment: nothing renews it in
the other program, and `NEXLA_ACCESS_TOKEN` wins over the stored session for this tool too.

Standard library only at import time; the commands import this module when they run.
"""

import json
import os
import signal
import subprocess
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, TypeVar

from nexla_cli import apitarget, names, renewal, session
from nexla_cli.deps import Deps
from nexla_cli.errors import UsageError
from nexla_cli.store import Environment, StoreData

API_URL_VARIABLE = "NEXLA_API_URL"
ENV_VARIABLE = "NEXLA_ENV"
SERVICE_KEY_VARIABLE = "NEXLA_SERVICE_KEY"
FORMATS = ("sh", "fish", "powershell", "dotenv", "json")

# The signals `token exec` passes on to its command. SIGHUP does not exist on Windows.
FORWARDED_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
# As shells report them.
EXIT_NOT_EXECUTABLE = 126
EXIT_NOT_FOUND = 127


class Handoff:
    """What is handed over: the variables, and when the token expires (None if unknown)."""

    def __init__(self, variables: Dict[str, str], expires_at: Optional[float]):
        self.variables = variables
        self.expires_at = expires_at


def handoff(deps: Deps, explicit_env: Optional[str], min_ttl: float = 0) -> Handoff:
    """The variables for the chosen environment, its token renewed first when due (or shorter
    lived than `min_ttl`). With $NEXLA_ACCESS_TOKEN set, that token is handed on as it is."""
    # The same rules as `nexla api`: with $NEXLA_ACCESS_TOKEN, the environment is optional
    # when NEXLA_API_URL says where the API is.
    target = apitarget.api_target(deps, explicit_env)
    expires_at: Optional[float] = None
    if target.from_variable:
        name, token = target.name, renewal.live_token(deps, explicit_env, min_ttl)
    else:
        name, live = renewal.live_session(deps, explicit_env, min_ttl)
        token, expires_at = live.access_token, live.expires_at
    variables = {API_URL_VARIABLE: target.api_url, session.ACCESS_TOKEN_VARIABLE: token}
    if name:
        variables[ENV_VARIABLE] = name
    for variable, value in variables.items():
        if not value.isprintable() or any(ch.isspace() for ch in value):
            raise UsageError(
                f"{variable} would contain spaces or control characters: not handed on"
            )
    if deps.environ.get(SERVICE_KEY_VARIABLE):
        deps.notices.warn(
            f"{SERVICE_KEY_VARIABLE} is set too: Nexla's SDK uses it instead of "
            f"{session.ACCESS_TOKEN_VARIABLE}"
        )
    return Handoff(variables, expires_at)


# Quoting for shells ------------------------------------------------------------------------


def quote_sh(value: str) -> str:
    """POSIX single quotes (sh, bash, zsh, dash, ksh): nothing inside is special but `'`."""
    return "'" + value.replace("'", "'\\''") + "'"


def quote_fish(value: str) -> str:
    """fish single quotes: only `\\` and `'` are special inside, each escaped by `\\`."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# PowerShell takes the typographic single quotes as quotes too.
_POWERSHELL_QUOTES = "'\u2018\u2019\u201a\u201b"


def quote_powershell(value: str) -> str:
    """PowerShell single quotes (verbatim): a quote inside is doubled."""
    return "'" + "".join(ch * 2 if ch in _POWERSHELL_QUOTES else ch for ch in value) + "'"


# What a dotenv value may hold without quotes in every reader (python-dotenv, docker
# --env-file, node's dotenv, systemd): every token, URL and name Nexla issues fits.
_DOTENV_PLAIN = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/@%+,=~[]"
)


def quote_dotenv(value: str) -> str:
    """Bare when safe for every dotenv reader; otherwise python-dotenv's single quotes, where
    `\\` and `'` are escaped by `\\` (docker compose reads them the same way)."""
    if value and all(ch in _DOTENV_PLAIN for ch in value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def render(handed: Handoff, fmt: str) -> str:
    """The variables as the format's lines (no trailing newline)."""
    items = handed.variables.items()
    if fmt == "sh":
        return "\n".join(f"export {name}={quote_sh(value)}" for name, value in items)
    if fmt == "fish":
        # The semicolons let `eval (nexla token export --format fish)` work too, where
        # fish joins the lines with spaces.
        return "\n".join(f"set -gx {name} {quote_fish(value)};" for name, value in items)
    if fmt == "powershell":
        return "\n".join(f"$env:{name} = {quote_powershell(value)}" for name, value in items)
    if fmt == "dotenv":
        return "\n".join(f"{name}={quote_dotenv(value)}" for name, value in items)
    if fmt == "json":
        data: Dict[str, object] = {
            name: handed.variables.get(name)
            for name in (API_URL_VARIABLE, session.ACCESS_TOKEN_VARIABLE, ENV_VARIABLE)
        }
        data["expires_at"] = None if handed.expires_at is None else _iso_utc(handed.expires_at)
        return json.dumps(data, indent=2)
    raise UsageError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


def _iso_utc(epoch: float) -> str:
    import datetime

    moment = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


# Running a command -------------------------------------------------------------------------


def run_command(deps: Deps, argv: List[str], variables: Dict[str, str]) -> int:
    """Run argv with the variables added to this environment; its exit status, as a shell
    gives it: 126 when it cannot be run, 127 when it is not found, 128+N when signal N
    killed it. stdin, stdout and stderr are shared.

    When this run is the whole process (the `nexla` program, not a test calling the app),
    the process becomes the command (exec), as `env`, `nice` and `direnv exec` do: every
    signal then reaches the command exactly as it was sent, once, whoever sent it to
    whichever processes (a terminal's Ctrl-C, `kill PID`, `kill -- -PGID`, `timeout`,
    systemd's control-group kill). A process that stayed around to pass signals on cannot
    tell a signal sent to it alone from one sent to its whole group, and would either drop
    the first or double the second. Elsewhere (Windows, the app run inside another
    program) the command runs as a child, and SIGINT, SIGTERM and SIGHUP are passed on.
    """
    environment = dict(deps.environ)
    environment.update(variables)
    for stream in (deps.streams.stdout, deps.streams.stderr):
        if stream is not None:
            stream.flush()
    if deps.owns_process and os.name == "posix":
        return _become_command(deps, argv, environment)
    return _run_child(deps, argv, environment)


# Python ignores these for itself; a command gets the default actions, as from a shell
# (subprocess restores them in a child the same way).
_SIGNALS_PYTHON_IGNORES = tuple(
    getattr(signal, name) for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ") if hasattr(signal, name)
)


def _become_command(deps: Deps, argv: List[str], environment: Dict[str, str]) -> int:
    """Replace this process with the command; returns only when it cannot be run. Signal
    handlers this process installed go back to the default actions on exec, while a
    signal ignored when `nexla` started (`nohup`) stays ignored, as from a shell.
    Descriptors `nexla` opened itself are not inheritable and close; those the caller
    opened for the command (`3>log`, a make jobserver) stay open."""
    previous = {
        signum: signal.signal(signum, signal.SIG_DFL) for signum in _SIGNALS_PYTHON_IGNORES
    }
    try:
        os.execvpe(argv[0], argv, environment)
    except OSError as exc:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        return _cannot_run(deps, argv, exc)
    raise AssertionError("exec returned")  # pragma: no cover - exec never returns


def _run_child(deps: Deps, argv: List[str], environment: Dict[str, str]) -> int:
    # Handlers go in before the command starts, so no signal falls between the two; the
    # command itself starts with the default actions (exec resets caught signals).
    forwarder = _Forwarder()
    try:
        try:
            # close_fds=False: descriptors the caller opened for COMMAND (`3>log`, a make
            # jobserver) reach it as they would from a shell; this process's own are
            # non-inheritable anyway.
            child = subprocess.Popen(argv, env=environment, close_fds=False, cwd=deps.cwd)
        except OSError as exc:
            return _cannot_run(deps, argv, exc)
        forwarder.child = child
        forwarder.deliver_pending()
        code = child.wait()
    finally:
        forwarder.restore()
    return 128 - code if code < 0 else code


def _cannot_run(deps: Deps, argv: List[str], exc: OSError) -> int:
    """Say why the command could not be started; the status a shell gives for that."""
    if isinstance(exc, FileNotFoundError):
        missing = "no such file" if os.sep in argv[0] else "command not found"
        deps.out.error(f"{argv[0]}: {missing}")
        return EXIT_NOT_FOUND
    if isinstance(exc, (PermissionError, IsADirectoryError, NotADirectoryError)):
        deps.out.error(f"{argv[0]}: permission denied (not an executable file)")
        return EXIT_NOT_EXECUTABLE
    deps.out.error(f"{argv[0]}: cannot run it: {exc.strerror or type(exc).__name__}")
    return EXIT_NOT_EXECUTABLE


class _Forwarder:
    """Signal handlers that pass SIGINT, SIGTERM and SIGHUP on to the child, where the
    command runs as a child (see run_command).

    A signal this process ignored when it started (`nohup`, a background job of a script) is
    left ignored, so the command inherits that as it would from a shell. A SIGINT typed at
    the terminal has already reached the command (the terminal signals the whole foreground
    process group), so it is not sent a second time: a command that cleans up on the first
    Ctrl-C must not be cut short by a copy.
    """

    def __init__(self) -> None:
        self.child: Optional[subprocess.Popen[bytes]] = None
        self._pending: List[int] = []
        self._previous: Dict[int, Any] = {}
        for signum in FORWARDED_SIGNALS:
            if signal.getsignal(signum) == signal.SIG_IGN:
                continue
            self._previous[signum] = signal.signal(signum, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        if self.child is None:
            self._pending.append(signum)
            return
        self._pass_on(signum)

    def deliver_pending(self) -> None:
        # These arrived before the command existed: nothing else can have reached it.
        for signum in self._pending:
            self._pass_on(signum, typed=False)
        self._pending.clear()

    def _pass_on(self, signum: int, typed: Optional[bool] = None) -> None:
        child = self.child
        if child is None:
            return
        if typed is None:
            typed = signum == signal.SIGINT and _terminal_signalled_the_child(child.pid)
        if typed:
            return
        try:
            child.send_signal(signum)
        except OSError:
            pass  # it has just exited: wait() collects its status

    def restore(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)


def _terminal_signalled_the_child(child_pid: int) -> bool:
    """Whether a Ctrl-C typed at the terminal reached the child as well as this process:
    both in one process group, which is the terminal's foreground group."""
    if not hasattr(os, "tcgetpgrp"):
        return False
    try:
        group = os.getpgrp()
        if os.getpgid(child_pid) != group:
            return False
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False  # no controlling terminal: the signal was sent to this process alone
    try:
        return os.tcgetpgrp(fd) == group
    except OSError:
        return False
    finally:
        os.close(fd)


# Asking the server about every environment at once -------------------------------------------

VALID, REJECTED, UNREACHABLE = "valid", "rejected", "unreachable"
# Environments asked at the same time (docs/scripting.md): more than anyone configures, few
# enough that the sockets and threads fit any machine's limits (1024 descriptors by default).
MAX_CONCURRENT_CHECKS = 256


def check_environments(deps: Deps, data: StoreData) -> Dict[str, Dict[str, Optional[str]]]:
    """One GET /users/current per environment that has a token, all at once.

    Returns {name: {"status": valid | rejected | unreachable, "token_source": …, "error":
    the reason it was unreachable or None}}; environments without a token are left out.
    The token is the stored one, sent as it is: nothing is renewed and nothing is written.
    $NEXLA_ACCESS_TOKEN, when set, wins as for `env show --check` and `api`, but only for
    the chosen environment ($NEXLA_ENV, else the current one): a token is for one host, and
    is never sent to every configured one.
    """
    override = session.access_token_override(deps)
    chosen = session.choose_env(deps, data, None).name if override else None
    targets = []
    for name in sorted(data.environments):
        env = data.environments[name]
        stored = env.session
        if override:
            if chosen is None or names.normalize_env_name(chosen) != name:
                continue
            token, source = override, session.ACCESS_TOKEN_VARIABLE
        elif stored is not None:
            token, source = stored.access_token, stored.source
            _refuse_foreign_api_url(deps, name, env)
        else:
            continue
        targets.append((name, session.api_url_for(deps, env, name), token, source))
    if not targets:
        return {}

    import requests  # noqa: F401 - imported once here, not by several threads at once

    def check(target: Tuple[str, str, str, str]) -> Dict[str, Optional[str]]:
        name, api_url, token, source = target
        return {"token_source": source, **_check_one(deps, api_url, token)}

    outcomes = all_at_once(check, targets, MAX_CONCURRENT_CHECKS)
    return {target[0]: outcome for target, outcome in zip(targets, outcomes, strict=True)}


_T = TypeVar("_T")
_R = TypeVar("_R")


def all_at_once(work: Callable[[_T], _R], items: Sequence[_T], limit: int) -> List[_R]:
    """work(item) for every item, `limit` at a time at most, each in a thread of its own;
    the results in the order of the items (the first exception raised, raised here).

    The threads are daemons and this thread waits on them in a way a signal interrupts:
    Ctrl-C ends the command at once (exit 130), abandoning the calls still waiting for a
    server rather than waiting out their timeouts and retries. A ThreadPoolExecutor would
    wait for every call it started, both on leaving its block and when Python exits.
    """
    import threading

    results: Dict[int, _R] = {}
    failures: List[BaseException] = []
    slots = threading.BoundedSemaphore(limit)
    finished = threading.Semaphore(0)

    def run(index: int, item: _T) -> None:
        try:
            results[index] = work(item)
        except BaseException as exc:  # handed to the waiting thread, which raises it
            failures.append(exc)
        finally:
            slots.release()
            finished.release()

    for index, item in enumerate(items):
        slots.acquire()
        threading.Thread(target=run, args=(index, item), daemon=True).start()
    for _ in items:
        finished.acquire()
    if failures:
        raise failures[0]
    return [results[index] for index in range(len(items))]


def _check_one(deps: Deps, api_url: str, token: str) -> Dict[str, Optional[str]]:
    from nexla_cli.errors import AuthError, NetworkError

    try:
        deps.client(api_url).current_user(token)
    except AuthError:
        return {"status": REJECTED, "error": None}
    except NetworkError as exc:
        return {"status": UNREACHABLE, "error": exc.message}
    return {"status": VALID, "error": None}


def _refuse_foreign_api_url(deps: Deps, name: str, env: Environment) -> None:
    """A stored token goes only to its environment's own API host, whatever NEXLA_API_URL
    says; checked for every environment before anything is sent (session's one rule)."""
    session.url_for_stored_credentials(deps, env, name)
