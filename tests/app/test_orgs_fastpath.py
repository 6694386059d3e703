"""`token print --org`/`--user` (and NEXLA_ORG/NEXLA_USER) on the fast path
(nexla_cli/fast/fastpath.py): a fresh token of the chosen identity is answered there, as the
full app answers it; a choice that is not clear (no such org, two users) is left to the full
app, which says why."""

from __future__ import annotations

import pytest

from nexla_cli.fast import fastpath
from tests.support.fastpath_worlds import FULL_APP, answer_with
from tests.support.orgs import ACME, BOB, sign_in_to_both


def _both(nx, argv: list[str], **variables: str) -> tuple[tuple, tuple]:
    env = nx.env_with(**variables)
    fast = answer_with(fastpath.token_print, argv, env, nx.tmp_path)
    full = answer_with(FULL_APP, argv, env, nx.tmp_path)
    return fast, full


@pytest.mark.parametrize(
    ("args", "variables", "org"),
    [
        (["--org", "acme"], {}, "acme"),
        (["--org=7"], {}, "acme"),
        (["-q", "--org", "Globex", "--env", "HOST"], {}, "globex"),
        ([], {"NEXLA_ORG": "ACME"}, "acme"),
        (["--org", "globex"], {"NEXLA_ORG": "acme"}, "globex"),
        (["--user", "ada@example.com", "--org", "acme"], {}, "acme"),
        ([], {}, "globex"),
    ],
)
def test_a_fresh_token_of_the_chosen_org_is_answered_on_the_fast_path(nx, args, variables, org):
    acme, globex = sign_in_to_both(nx)
    nx.server.clear_log()
    argv = ["token", "print", *[arg.replace("HOST", nx.server.host) for arg in args]]
    fast, full = _both(nx, argv, **variables)
    expected = {"acme": acme, "globex": globex}[org]
    assert fast == full == (0, expected + "\n", "")
    assert nx.server.count() == 0


@pytest.mark.parametrize(
    ("args", "code"),
    [(["--org", "initech"], 3), (["--org", "acme"], 2), (["--org="], 2)],
)
def test_an_unclear_choice_is_left_to_the_full_app(nx, args, code):
    sign_in_to_both(nx)
    bob = nx.server.sign_in(BOB, ACME)
    nx.ok("env", "login", "--with-token", input=bob + "\n")
    fast, full = _both(nx, ["token", "print", *args])
    assert fast == (None, "", "")
    assert full[0] == code and full[1] == "" and full[2].startswith("error: ")
