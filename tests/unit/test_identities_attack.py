"""The identity choice (nexla_cli/core/identities.py; README, "Several orgs") against odd
values: org ids that are not plain numbers, names equal to another org's id, blank options,
two orgs of one name. A choice never lands on an identity the user did not name."""

from __future__ import annotations

import pytest

from nexla_cli.core import identities
from nexla_cli.core.errors import ConfigError, UsageError

ACME = identities.Candidate(42, "ada@example.com", 7, "Acme")
NAMED_SEVEN = identities.Candidate(42, "ada@example.com", 9, "7")
BLANK_NAME = identities.Candidate(42, "ada@example.com", 11, "")
NO_ORG = identities.Candidate(42, "ada@example.com", None, None)
ORG_TRUE = identities.Candidate(42, "ada@example.com", True, "Truth")
ORG_ONE = identities.Candidate(42, "ada@example.com", 1, "One")
ACME_TOO = identities.Candidate(42, "ada@example.com", 70, "acme")

CASES = [
    # (candidates, org option, user option, expected key or error)
    ([ACME, NAMED_SEVEN], "7", None, ACME.key),  # an id wins over a name
    ([ACME, NAMED_SEVEN], "9", None, NAMED_SEVEN.key),
    ([NAMED_SEVEN], "7", None, NAMED_SEVEN.key),  # a name, when no id is 7
    ([ACME, BLANK_NAME], " ", None, UsageError),
    ([ACME, BLANK_NAME], "", None, UsageError),
    ([ACME], None, " ", UsageError),
    ([ACME, NO_ORG], "none", None, ConfigError),
    ([ACME, NO_ORG], "None", None, ConfigError),
    ([ORG_ONE, ORG_TRUE], "true", None, ORG_TRUE.key),
    ([ORG_ONE, ORG_TRUE], "1", None, ORG_ONE.key),
    ([ACME, ACME_TOO], "acme", None, UsageError),  # two orgs of one name
]


@pytest.mark.parametrize(("candidates", "org", "user", "expected"), CASES)
def test_odd_values_choose_only_what_was_named(candidates, org, user, expected):
    active = candidates[-1].key
    if isinstance(expected, type):
        with pytest.raises(expected):
            identities.choose("env", candidates, active, org, user, {})
        return
    chosen = identities.choose("env", candidates, active, org, user, {})
    assert identities.same_key(chosen, expected)


def test_two_orgs_of_one_name_are_told_apart_by_id_not_by_user():
    with pytest.raises(UsageError) as raised:
        identities.choose("env", [ACME, ACME_TOO], None, "acme", None, {})
    assert "--org 7" in (raised.value.hint or "")
    assert "--user" not in (raised.value.hint or "")


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ((42, 1), (42, True), False),
        ((42, 7), (42, 7.0), False),
        ((42, 7), (42, "7"), False),
        ((42, 7), (42, 7), True),
        ((42, None), (42, None), True),
        (None, None, True),
        (None, (None, None), False),
    ],
)
def test_keys_are_the_same_only_with_ids_of_one_type(one, other, same):
    assert identities.same_key(one, other) is same


def test_a_file_with_ten_thousand_identities_gives_a_one_line_error_of_sane_length():
    crowd = [
        identities.Candidate(42, "ada@example.com", 1000 + n, f"Org{n}") for n in range(10_000)
    ]
    with pytest.raises(ConfigError) as raised:
        identities.choose("env", crowd, crowd[0].key, "initech", None, {})
    message = raised.value.message
    assert len(message) < 2000 and "\n" not in message
    assert "Org0 (org 1000)" in message and "9990 more" in message
    twins = [identities.Candidate(42 + n, f"u{n}@example.com", 7, "Acme") for n in range(5000)]
    with pytest.raises(UsageError) as raised:
        identities.choose("env", twins, None, "acme", None, {})
    assert len(raised.value.message) < 2000 and "4990 more" in raised.value.message


@pytest.mark.parametrize(
    ("org", "environ", "says"),
    [
        (None, {"NEXLA_ORG": "junk"}, "org 'junk' (from NEXLA_ORG)"),
        ("junk", {"NEXLA_ORG": "acme"}, "org 'junk' on"),
        (None, {"NEXLA_USER": "eve@example.com"}, "user 'eve@example.com' (from NEXLA_USER)"),
    ],
)
def test_an_org_from_a_variable_that_matches_nothing_says_where_it_came_from(org, environ, says):
    with pytest.raises(ConfigError) as raised:
        identities.choose("env", [ACME], ACME.key, org, None, environ)
    assert says in raised.value.message


def test_ten_thousand_identities_of_one_user_are_chosen_in_good_time():
    import time

    crowd = [
        identities.Candidate(42, "ada@example.com", 1000 + n, f"Org{n}") for n in range(10_000)
    ]
    started = time.monotonic()
    with pytest.raises(UsageError):
        identities.choose("env", crowd, None, None, "ada@example.com", {})
    assert identities.choose("env", crowd, crowd[5].key, None, "ada@example.com", {}) == (42, 1005)
    assert time.monotonic() - started < 2
