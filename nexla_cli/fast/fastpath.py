"""`nexla token print` of a fresh token, answered before Typer is even imported.

Scripts run `$(nexla token print)` in loops, so this one case costs what reading a JSON file
costs: the standard library, and platformdirs only where paths.py needs it. It takes
exactly these shapes:

    nexla token print
    nexla token print --env NAME | -e NAME | --env=NAME
    nexla token print --min-ttl SECONDS | --min-ttl=SECONDS   (beside --env, either order)
    nexla token print --org ORG | --org=ORG, --user EMAIL | --user=EMAIL   (likewise)

with `-q`/`--quiet` anywhere among them, as the full app takes it (this path prints no
message that quiet would leave out: only a warning, and the token),

and answers only when $NEXLA_ACCESS_TOKEN is set (without --min-ttl above 0), or the chosen
environment's stored session is fresh (outside the refresh margin) and has at least
SECONDS left; the identity is chosen by core/identities.py ($NEXLA_ORG and $NEXLA_USER
too), as in the full app, and a choice that is not clear is left to it. It never decides
an error: any other argument, a due or expired token, no
or unknown environment, a name that normalisation would change, an unreadable store or a
damaged session, a bad $NEXLA_REFRESH_MARGIN or any surprise at all returns None, having
printed nothing, and main.py runs the full app as if this module did not exist. What it
prints is what the full app prints in the same case.

The store is read without the lock: it is only ever replaced whole (see store.py). The
environment is chosen by envchoice.py, as in the full app; what the full app decides
beyond that (renewal, errors) this module leaves to it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from nexla_cli.deps import Deps
    from nexla_cli.storage.store import Environment


def token_print(argv: list[str], deps: Deps) -> int | None:
    """The exit code when this call was answered here; None to run the full app."""
    accepted, options, min_ttl = _shape(argv)
    if not accepted or deps.streams.stdout is None:  # a closed stdout: the full app says so
        return None
    try:
        answer = _fresh_token(
            deps, options.get("env"), min_ttl, options.get("org"), options.get("user")
        )
    except Exception:  # anything unexpected: the full app knows what to say
        return None
    if answer is None:
        return None
    token, warning = answer
    try:
        if warning:
            deps.out.warn(warning)
        deps.out.result(token)
    except Exception:
        # A closed pipe, a full disk: the full app meets the same failure and reports it.
        return None
    return 0


def _shape(argv: list[str]) -> tuple[bool, dict[str, str], int]:
    """(True, {"env"/"org"/"user": value given}, SECONDS) for the shapes above, else
    (False, {}, 0)."""
    refused: tuple[bool, dict[str, str], int] = (False, {}, 0)
    argv = [arg for arg in argv if arg not in ("-q", "--quiet")]
    if argv[:2] != ["token", "print"]:
        return refused
    options: dict[str, str] = {}
    rest = argv[2:]
    while rest:
        flag, _, attached = rest[0].partition("=")
        if flag == "-e" and attached:
            return refused  # `-e=NAME` means a name starting with "=" to the full app
        key = {
            "--env": "env",
            "-e": "env",
            "--min-ttl": "min_ttl",
            "--org": "org",
            "--user": "user",
        }.get(flag)
        if key is None or key in options:
            return refused
        if attached or rest[0].endswith("="):
            options[key], rest = attached, rest[1:]
        elif len(rest) >= 2:
            options[key], rest = rest[1], rest[2:]
        else:
            return refused
    if any(options.get(key) == "" for key in ("env", "org", "user")):
        return refused
    from nexla_cli.core import settings

    try:
        # A bad value (a sign, "1e3", more than a year, thousands of digits) is the full
        # app's to report.
        min_ttl = settings.min_ttl(options.pop("min_ttl", "0"))
    except Exception:
        return refused
    return True, options, min_ttl


def _fresh_token(
    deps: Deps,
    explicit_env: str | None,
    min_ttl: int,
    org: str | None = None,
    user: str | None = None,
) -> tuple[str, str | None] | None:
    """(token, permission warning or None) when it can be printed as it is, else None."""
    from nexla_cli.core import settings

    environ = deps.environ
    # Every NEXLA_* setting is checked on every path: a bad one is left to the full app,
    # which says what is wrong (exit 2), even when this run would not have used it.
    settings.check_all(environ)
    # As renewal.live_token: the variable wins before the store is even read.
    override = settings.access_token(environ)
    if override:
        if min_ttl > 0:
            return None  # the full app warns that the variable's life is unknown
        return _printable(deps, override), None

    from nexla_cli.core import envchoice, names, paths
    from nexla_cli.storage.store import permission_warning, read_store

    path = paths.credentials_path(environ)
    data = read_store(path)
    # As storedsessions.resolve_env_name, but only for a name already in its normal form.
    name = envchoice.choose(explicit_env, environ, data.current).name
    if not name or names.normalize_env_name(name) != name:
        return None
    env = data.environments.get(name)
    if env is None:
        return None
    identity = env.find(_chosen(name, env, org, user, environ))
    # A damaged session is the full app's to report (store.py, "A damaged session").
    if identity is None or identity.session_damaged:
        return None
    session = identity.session
    if session is None:
        return None
    now = deps.now()
    if not session.is_fresh(now, settings.refresh_margin(environ)):
        return None
    if session.seconds_left(now) < min_ttl:
        return None
    return _printable(deps, session.access_token), permission_warning(path)


def _chosen(
    name: str, env: Environment, org: str | None, user: str | None, environ: Mapping[str, str]
) -> tuple[object, object] | None:
    """The key of the identity --org/--user (or the variables) choose, None for the active
    one; an error (no such identity, several) is raised, for the full app to report."""
    from nexla_cli.core import identities

    if not (org or user) and not (
        environ.get("NEXLA_ORG") or environ.get("NEXLA_USER")
    ):
        return None  # the common case: no list of candidates to build
    candidates = [
        identities.Candidate.of(session.user, session.org)
        for session in (each.session_unless_damaged() for each in env.identities())
        if session is not None
    ]
    return identities.choose(name, candidates, env.active.key, org, user, environ)


def _printable(deps: Deps, token: str) -> str:
    # Fail here, before anything is printed, rather than halfway through printing.
    stdout = deps.streams.stdout
    encoding = getattr(stdout, "encoding", None) or "utf-8"
    token.encode(encoding, getattr(stdout, "errors", None) or "strict")
    return token
