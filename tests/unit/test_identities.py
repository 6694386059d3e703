"""Which identity of an environment a command acts on (README, "Several orgs"): the pure
rule in nexla_cli/core/identities.py, as a table. --org > $NEXLA_ORG > the active identity;
--user (> $NEXLA_USER) narrows; none matching is exit 3 naming those there are, several is
exit 2 listing them."""

from __future__ import annotations

import pytest

from nexla_cli.core import identities
from nexla_cli.core.errors import ConfigError, UsageError

ADA_ACME = identities.Candidate(42, "ada@example.com", 7, "Acme")
ADA_GLOBEX = identities.Candidate(42, "ada@example.com", 8, "Globex")
BOB_ACME = identities.Candidate(43, "bob@example.com", 7, "Acme")
ALL = [ADA_ACME, ADA_GLOBEX, BOB_ACME]
CAFE = identities.Candidate(42, "ada@example.com", 9, "Caf\u00e9")
CAFE_TYPED_APART = identities.Candidate(42, "ada@example.com", 9, "Cafe\u0301")
ACTIVE = ADA_GLOBEX.key

CASES = [
    # (candidates, org option, user option, environment, expected key or error)
    (ALL, None, None, {}, ACTIVE),
    ([], None, None, {}, ACTIVE),  # the active key as stored, whatever it is
    (ALL, "8", None, {}, ADA_GLOBEX.key),
    (ALL, "globex", None, {}, ADA_GLOBEX.key),
    (ALL, "  GLOBEX ", None, {}, ADA_GLOBEX.key),
    # A name in either Unicode form: é as one character, or e and a combining accent.
    ([CAFE], "Cafe\u0301", None, {}, CAFE.key),
    ([CAFE_TYPED_APART], "CAF\u00c9", None, {}, CAFE_TYPED_APART.key),
    (ALL, None, None, {"NEXLA_ORG": "Globex"}, ADA_GLOBEX.key),
    (ALL, "8", None, {"NEXLA_ORG": "Acme"}, ADA_GLOBEX.key),  # the option wins
    (ALL, None, None, {"NEXLA_ORG": " "}, ACTIVE),  # blank is unset
    (ALL, "acme", None, {}, UsageError),  # two users share Acme
    (ALL, "acme", "bob@example.com", {}, BOB_ACME.key),
    (ALL, "acme", "BOB@example.com", {}, BOB_ACME.key),
    (ALL, "acme", None, {"NEXLA_USER": "ada@example.com"}, ADA_ACME.key),
    (ALL, None, "ada@example.com", {}, ACTIVE),  # Ada's, and the active one is hers
    (ALL, None, "bob@example.com", {}, BOB_ACME.key),
    ([ADA_ACME, ADA_GLOBEX], None, "ada@example.com", {}, ACTIVE),
    ([ADA_ACME, ADA_GLOBEX, BOB_ACME], None, "ada@example.com", {}, ACTIVE),
    ([ADA_ACME, ADA_GLOBEX, BOB_ACME], "9", None, {}, ConfigError),
    (ALL, "initech", None, {}, ConfigError),
    (ALL, "acme", "carol@example.com", {}, ConfigError),
    ([], "acme", None, {}, ConfigError),
]


@pytest.mark.parametrize(("candidates", "org", "user", "environ", "expected"), CASES)
def test_the_choice(candidates, org, user, environ, expected):
    if isinstance(expected, type):
        with pytest.raises(expected):
            identities.choose("dataops.nexla.io", candidates, ACTIVE, org, user, environ)
    else:
        chosen = identities.choose("dataops.nexla.io", candidates, ACTIVE, org, user, environ)
        assert chosen == expected


def test_user_alone_over_orgs_without_the_active_one_lists_them():
    with pytest.raises(UsageError) as raised:
        identities.choose("h", [ADA_ACME, ADA_GLOBEX], BOB_ACME.key, None, "ada@example.com", {})
    assert "Acme (org 7)" in raised.value.message and "Globex (org 8)" in raised.value.message
    assert "--org" in raised.value.hint


def test_an_org_with_no_identity_names_the_orgs_there_are():
    with pytest.raises(ConfigError) as raised:
        identities.choose("h", ALL, ACTIVE, "initech", None, {})
    message = raised.value.message
    assert "'initech'" in message and "nothing was sent" in message
    for each in ALL:
        assert each.label() in message
    assert raised.value.exit_code == 3


def test_two_users_in_one_org_are_listed_with_the_way_to_narrow():
    with pytest.raises(UsageError) as raised:
        identities.choose("h", ALL, ACTIVE, "7", None, {})
    assert ADA_ACME.label() in raised.value.message and BOB_ACME.label() in raised.value.message
    assert "--user" in raised.value.hint and raised.value.exit_code == 2


@pytest.mark.parametrize(
    ("email", "org_name", "org_id", "expected"),
    [
        ("you@example.com", "Acme", 7, "you@example.com in Acme (org 7)"),
        ("you@example.com", None, None, "you@example.com in no org"),
        (None, "Acme", 7, "an unknown user in Acme (org 7)"),
        ("you@example.com", "Ac\x1b[2Jme", 7, "you@example.com in Ac\\x1b[2Jme (org 7)"),
    ],
)
def test_one_spelling_of_an_identity(email, org_name, org_id, expected):
    assert identities.label(email, org_name, org_id) == expected
