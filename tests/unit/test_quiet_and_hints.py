"""The two decisions behind quiet runs and fitting hints, as tables: what NEXLA_QUIET means
(README.md, "Settings"), which lines a quiet run leaves out, and which next step a refused
session's hint names for each state of the saved key."""

from __future__ import annotations

import io

import pytest

from nexla_cli.auth.storedsessions import session_hint
from nexla_cli.core import settings
from nexla_cli.core.errors import UsageError
from nexla_cli.core.runtime import Streams
from nexla_cli.storage.keys import SavedKey
from nexla_cli.storage.store import Environment
from nexla_cli.ui.output import Output

QUIET = {
    None: False,
    "": False,
    "   ": False,
    "1": True,
    "0": False,
    "true": True,
    "FALSE": False,
    " Yes ": True,
    "no": False,
    "On": True,
    "off": False,
}


@pytest.mark.parametrize("value", list(QUIET))
def test_nexla_quiet_words(value):
    environ = {} if value is None else {"NEXLA_QUIET": value}
    assert settings.quiet(environ) is QUIET[value]
    settings.check_all(environ)  # accepted on every run


@pytest.mark.parametrize("value", ["maybe", "2", "y", "enabled", "1 1", "\x00"])
def test_any_other_nexla_quiet_is_refused(value):
    for check in (settings.quiet, settings.check_all):
        with pytest.raises(UsageError) as caught:
            check({"NEXLA_QUIET": value})
        assert caught.value.message.startswith("NEXLA_QUIET must be 1 or 0")
        assert caught.value.exit_code == 2


@pytest.mark.parametrize("quiet", [False, True])
def test_quiet_leaves_out_info_alone(quiet):
    stderr, stdout = io.StringIO(), io.StringIO()
    out = Output(Streams(None, stdout, stderr), {}, debug=lambda: False, quiet=lambda: quiet)
    out.info("Refreshed the session")
    out.warn("could not refresh")
    out.error("refused", hint="do this")
    out.tell("the link to open")
    out.result("the token")
    kept = [] if quiet else ["Refreshed the session"]
    expected = [*kept, "warning: could not refresh", "error: refused", "hint: do this"]
    assert stderr.getvalue().splitlines() == [*expected, "the link to open"]
    assert stdout.getvalue() == "the token\n"


def _env(key: SavedKey | None) -> Environment:
    return Environment("https://example.test/nexla-api", saved_key=key)


# (the environment's record, a fragment the hint holds, a fragment it must not hold)
HINTS = {
    "no record": (None, "nexla env login --env N", "token refresh"),
    "no key saved": (_env(None), "nexla env login --env N", "token refresh"),
    "a key in the file": (_env(SavedKey(key="k")), "nexla token refresh --env N", "env login"),
    "a refused key": (
        _env(SavedKey(key="k", rejected_at=1)),
        "nexla token from-key --env N --save-key",
        "token refresh",
    ),
}


@pytest.mark.parametrize("case", list(HINTS))
def test_the_hint_fits_the_saved_key(case):
    env, holds, never = HINTS[case]
    hint = session_hint("N", env, env.active if env is not None else None)
    assert holds in hint and never not in hint
