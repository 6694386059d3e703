"""A renewal keeps its user and org (docs/sessions.md, "When a session is renewed"): an
answer that is another identity's session is refused, never stored as the one renewed; a
session stored without knowing whose it was learns it. The rule as a table of the plan's
`judge`; the command's side is tests/app/test_renewal_keeps_its_identity.py."""

from __future__ import annotations

import pytest

from nexla_cli.auth.renewal_plan import Answer, Fail, Situation, Use, judge
from nexla_cli.core.errors import NetworkError
from nexla_cli.core.model import Session

NOW = 1_800_000_000
ADA = {"id": 42, "email": "ada@example.com"}
ACME = {"id": 7, "name": "Acme"}


def session(user: dict, org: dict | None) -> Session:
    return Session("tok", NOW - 3500, NOW + 100, "pasted", user, org)


@pytest.mark.parametrize(
    ("stored_user", "stored_org", "answer_user", "answer_org", "kept"),
    [
        (ADA, ACME, ADA, ACME, True),  # the same identity, renewed
        (ADA, ACME, ADA, {"id": 8, "name": "Globex"}, False),  # another org
        (ADA, ACME, {"id": 43, "email": "bob@example.com"}, ACME, False),  # another user
        (ADA, ACME, ADA, {"id": 7.0, "name": "Acme"}, False),  # 7.0 is not the org 7
        (ADA, ACME, ADA, None, False),  # moved out of its org
        (ADA, None, ADA, None, True),  # in no org, still
        ({}, None, ADA, ACME, True),  # stored unchecked: it learns whose it is
    ],
)
def test_a_renewal_answer_of_another_identity_is_refused(
    stored_user, stored_org, answer_user, answer_org, kept
):
    stored = session(stored_user, stored_org)
    renewed = Session("tok-new", NOW, NOW + 3600, "refreshed", answer_user, answer_org)
    verdict = judge(Situation("h.example", stored, NOW), "refresh", Answer("session", renewed))
    if kept:
        assert verdict.step == Use(renewed)
    else:
        assert isinstance(verdict.step, Fail) and isinstance(verdict.step.error, NetworkError)
        assert "nothing was stored" in verdict.step.error.message
        assert verdict.failure is None
