"""TAB after --org offers an org's name only where `--org NAME` takes it for that org alone
(docs/signing-in.md), matching names as the choice does: in any case and in either Unicode
form of an accent. Two orgs whose names differ only in that form are offered by id."""

from __future__ import annotations

from nexla_cli.fast import fastcomplete
from tests.support.orgs import ADA

ONE_CHARACTER = {"id": 1, "name": "Caf\u00e9"}  # é as one character
TWO_CHARACTERS = {"id": 2, "name": "Cafe\u0301"}  # e and a combining accent


def _sign_in(nx, org: dict) -> None:
    token = nx.server.issue_token(ADA, org)
    nx.ok("env", "configure", nx.server.host, "--with-token", input=token + "\n")


def test_names_equal_in_another_unicode_form_are_offered_by_id(nx):
    _sign_in(nx, ONE_CHARACTER)
    _sign_in(nx, TWO_CHARACTERS)
    offered = fastcomplete.org_names("", nx.env)
    assert sorted(offered) == ["1", "2"]
    for word in offered:  # each picks one org
        nx.ok("token", "print", "--org", word)


def test_a_name_alone_is_offered_as_it_is(nx):
    _sign_in(nx, ONE_CHARACTER)
    assert fastcomplete.org_names("", nx.env) == ["Caf\u00e9"]
