"""`nexla token print` of a fresh token, answered before Typer is even imported.

Scripts run `$(nexla token print)` in loops, so this one case costs what reading a JSON file
costs: the standard library, and platformdirs only where paths.py needs it. It takes
exactly these shapes:

    nexla token print
    nexla token print --env NAME | -e NAME | --env=NAME

and answers only when $NEXLA_ACCESS_TOKEN is set, or the chosen environment's stored
session is fresh (outside the refresh margin). It never decides an error: any other
argument, a due or expired token, no or unknown environment, a name that normalisation
would change, an unreadable store, a bad $NEXLA_REFRESH_MARGIN or any surprise at all
returns None, having printed nothing, and main.py runs the full app as if this module
did not exist. What it prints is what the full app prints in the same case.

The store is read without the lock: it is only ever replaced whole (see store.py).
"""

import sys

# Also in session.py; the parity tests in tests/test_fastpath.py keep the two in step.
ACCESS_TOKEN_VARIABLE = "NEXLA_ACCESS_TOKEN"


def token_print(argv: list[str]) -> int | None:
    """The exit code when this call was answered here; None to run the full app."""
    accepted, explicit_env = _shape(argv)
    if not accepted or sys.stdout is None:  # a closed stdout: the full app reports it
        return None
    try:
        answer = _fresh_token(explicit_env)
    except Exception:  # anything unexpected: the full app knows what to say
        return None
    if answer is None:
        return None
    token, warning = answer
    from nexla_cli import output

    try:
        if warning:
            output.warn(warning)
        output.result(token)
    except Exception:
        # A closed pipe, a full disk: the full app meets the same failure and reports it.
        return None
    return 0


def _shape(argv: list[str]) -> tuple[bool, str | None]:
    """(True, NAME or None) for the shapes above, else (False, None)."""
    if argv[:2] != ["token", "print"]:
        return False, None
    rest = argv[2:]
    if not rest:
        return True, None
    if len(rest) == 2 and rest[0] in ("--env", "-e"):
        name = rest[1]
    elif len(rest) == 1 and rest[0].startswith("--env="):
        name = rest[0][len("--env=") :]
    else:
        return False, None
    return (True, name) if name else (False, None)


def _fresh_token(explicit_env: str | None) -> tuple[str, str | None] | None:
    """(token, permission warning or None) when it can be printed as it is, else None."""
    from nexla_cli import settings

    # Every NEXLA_* setting is checked on every path: a bad one is left to the full app,
    # which says what is wrong (exit 2), even when this run would not have used it.
    settings.check_all()
    # As session.live_token: the variable wins before the store is even read.
    override = settings.access_token()
    if override:
        return _printable(override), None

    from nexla_cli import names, paths
    from nexla_cli.model import Session
    from nexla_cli.store import permission_warning, read_store

    path = paths.store_path()
    data = read_store(path)
    # As session.resolve_env_name, but only for a name already in its normal form.
    name = explicit_env or settings.env_name() or data.get("current")
    if not name or names.normalize_env_name(name) != name:
        return None
    env = data["environments"].get(name)
    if env is None or env.get("session") is None:
        return None
    session = Session.from_dict(env["session"])
    if not session.is_fresh():
        return None
    return _printable(session.access_token), permission_warning(path)


def _printable(token: str) -> str:
    # Fail here, before anything is printed, rather than halfway through printing.
    stdout = sys.stdout
    token.encode(stdout.encoding or "utf-8", stdout.errors or "strict")
    return token
