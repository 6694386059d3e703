"""The renewal rules of docs/sessions.md, as tables of the pure decision (renewal_plan.py).

Each row states only what is unusual about its case; everything else is the default: a
session obtained 10 minutes ago, good for an hour (so fresh: the margin is 5 minutes), no
saved key, no variable set, not forced, nothing remembered. No server, no store, no app:
these run in milliseconds. What the server is sent and what is stored after each verdict
is tested through the app in test_session_policy.py and the others it names.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.auth import renewal_plan
from nexla_cli.auth.renewal_plan import Answer, Fail, Send, Situation, Use
from nexla_cli.core.errors import ConfigError, UsageError
from nexla_cli.core.model import Session
from nexla_cli.storage.keys import KeyStorageError

NOW = 1_700_000_000
NAME = "dataops.nexla.io"
TOKEN = "tok-stored"
NEW = Session("tok-new", NOW, NOW + 3600, "refreshed", {})
FOREIGN = UsageError("NEXLA_API_URL points at elsewhere.example")


def situation(
    *,
    left: float = 3000,
    lifetime: int = 3600,
    ahead: int = 0,
    failure: str | None = None,
    failure_age: float = 0,
    seen: str | None = None,
    **facts: object,
) -> Situation:
    """The default situation with a row's unusual facts. `left`: seconds the stored token
    has; `ahead`: how far in the future it says it was obtained (the clock moved);
    `failure` (a refresh_failure kind) remembered `failure_age` seconds ago; `seen`: the
    token the caller saw, "stored" or "other"."""
    expires_at = int(NOW + left)
    obtained_at = NOW + ahead if ahead else expires_at - lifetime
    remembered = None
    if failure is not None:
        remembered = {"at": int(NOW - failure_age), "kind": failure, "message": "HTTP 502"}
    stored = Session(TOKEN, obtained_at, expires_at, "pasted", {}, refresh_failure=remembered)
    seen_token = {"stored": TOKEN, "other": "tok-seen-earlier", None: None}[seen]
    return Situation(name=NAME, stored=stored, now=NOW, seen_token=seen_token, **facts)  # type: ignore[arg-type]


def described(step: renewal_plan.Step) -> str:
    """A step as the tables write it: `use`, `use, warning: …`, `refresh`, `mint`,
    `exit N: message`."""
    if isinstance(step, Send):
        return step.request
    if isinstance(step, Fail):
        return f"exit {step.error.exit_code}: {step.error.message}"
    kept = "use" if step.session.access_token == TOKEN else f"use {step.session.access_token}"
    return f"{kept}, warning: {step.warning}" if step.warning else kept


def matches(step: renewal_plan.Step, expected: str) -> bool:
    """`expected` is how `described(step)` begins, or its start and a part after `…`."""
    text = described(step)
    head, _, part = expected.partition(" … ")
    return text.startswith(head) and part in text


DUE = {"left": 200}  # inside the 5-minute margin, still valid
EXPIRED = {"left": -10}

PLAN_ROWS = [
    # When a session is renewed
    pytest.param({}, "use", id="fresh token used as it is"),
    pytest.param(DUE, "refresh", id="due token refreshed"),
    pytest.param({**DUE, "key": "saved"}, "refresh", id="due token with a key still refreshed"),
    pytest.param(EXPIRED, "refresh", id="expired token without key asks for a refresh"),
    pytest.param({**EXPIRED, "key": "saved"}, "mint", id="expired token with key minted"),
    pytest.param({**EXPIRED, "key": "refused"}, "refresh", id="refused key is no key"),
    pytest.param({"left": 0}, "refresh", id="expiring this second counts as expired"),
    pytest.param({"left": 0, "key": "saved"}, "mint", id="expiring this second with key minted"),
    pytest.param({"forced": True}, "refresh", id="token refresh renews a fresh token"),
    pytest.param({"forced": True, "key": "saved"}, "refresh", id="forced with key refreshes"),
    pytest.param({**EXPIRED, "forced": True, "key": "saved"}, "mint", id="forced expired mints"),
    pytest.param({"left": 400, "lifetime": 800}, "use", id="short session margin is a quarter"),
    pytest.param({"left": 150, "lifetime": 400}, "use", id="short session not due above margin"),
    pytest.param({"left": 90, "lifetime": 400}, "refresh", id="short session due in its margin"),
    pytest.param({**DUE, "margin_override": 0.0}, "use", id="margin variable of 0"),
    pytest.param({"left": 900, "margin_override": 1000.0}, "refresh", id="margin variable wider"),
    # The clock cannot be trusted
    pytest.param({"ahead": 600}, "refresh", id="obtained in the future renewed"),
    pytest.param({"ahead": 600, "key": "saved"}, "mint", id="obtained in the future minted"),
    pytest.param({"ahead": 3}, "use", id="a few seconds ahead is clock slack"),
    # What is remembered
    pytest.param({"failure": "rejected"}, "exit 4: the session for … refuse", id="refused is dead"),
    pytest.param(
        {"failure": "rejected", "key": "refused"},
        "exit 4: … was rejected earlier",
        id="refused session and refused key",
    ),
    pytest.param({"failure": "rejected", "key": "saved"}, "mint", id="refused session minted"),
    pytest.param(
        {**DUE, "failure": "not_offered"},
        "use, warning: … does not refresh sessions",
        id="no refresh: due token used with warning",
    ),
    pytest.param(
        {**EXPIRED, "failure": "not_offered"},
        "exit 4: … does not refresh sessions",
        id="no refresh: expired is exit 4 not 5",
    ),
    pytest.param(
        {**DUE, "failure": "not_offered", "forced": True},
        "exit 4: … does not refresh",
        id="no refresh: token refresh is exit 4",
    ),
    pytest.param({**DUE, "failure": "not_offered", "key": "saved"}, "mint", id="no refresh: mint"),
    pytest.param({"failure": "not_offered"}, "use", id="no refresh: fresh token used"),
    pytest.param(
        {**DUE, "failure": "unreachable", "failure_age": 10},
        "use, warning: could not refresh … 10s ago; not retried for 30s",
        id="outage remembered: valid token used",
    ),
    pytest.param(
        {**EXPIRED, "failure": "unreachable", "failure_age": 10},
        "exit 5: the session for … has expired and could not be renewed",
        id="outage remembered: expired is exit 5",
    ),
    pytest.param(
        {**EXPIRED, "failure": "unreachable", "failure_age": 10, "key": "saved"},
        "exit 5",
        id="outage remembered: no mint either",
    ),
    pytest.param(
        {**DUE, "failure": "unreachable", "failure_age": 10, "forced": True},
        "exit 5: … stays valid until",
        id="outage remembered: token refresh is exit 5",
    ),
    pytest.param(
        {**DUE, "failure": "unreachable", "failure_age": 30},
        "refresh",
        id="outage forgotten after 30s",
    ),
    pytest.param(
        {**DUE, "failure": "unreachable", "failure_age": -60},
        "refresh",
        id="outage dated in the future is stale",
    ),
    # NEXLA_API_URL
    pytest.param(
        {**DUE, "api_url_overridden": True},
        "use, warning: did not refresh … NEXLA_API_URL is set",
        id="api url variable: due token used",
    ),
    pytest.param(
        {**EXPIRED, "api_url_overridden": True, "key": "saved"},
        "exit 2: … while NEXLA_API_URL is set",
        id="api url variable: expired is exit 2",
    ),
    pytest.param(
        {"api_url_overridden": True, "forced": True},
        "exit 2",
        id="api url variable: token refresh is exit 2",
    ),
    pytest.param(
        {"api_url_overridden": True, "seen": "stored", "seen_token_refused": True, "forced": True},
        "exit 2",
        id="api url variable: 401 from api is exit 2",
    ),
    pytest.param({"api_url_overridden": True}, "use", id="api url variable: fresh token used"),
    pytest.param(
        {**DUE, "foreign_api_url": FOREIGN}, "exit 2: NEXLA_API_URL points", id="another host"
    ),
    pytest.param({"foreign_api_url": FOREIGN}, "use", id="another host: fresh token sends nothing"),
    # One renewal for many processes
    pytest.param({**DUE, "seen": "other"}, "use", id="renewed meanwhile: used"),
    pytest.param({**DUE, "seen": "stored"}, "refresh", id="the token seen is still due"),
    pytest.param(
        {"seen": "other", "forced": True}, "use", id="token refresh after another renewed"
    ),
    pytest.param(
        {"seen": "other", "seen_token_refused": True, "forced": True},
        "use",
        id="401 after another renewed: the new token",
    ),
    pytest.param({**EXPIRED, "seen": "other"}, "refresh", id="replaced by an expired one"),
    pytest.param(
        {"seen": "other", "failure": "rejected"},
        "exit 4",
        id="replaced by a refused one",
    ),
    # --min-ttl
    pytest.param({"min_ttl": 3500}, "refresh", id="min-ttl longer than left renews"),
    pytest.param(
        {"min_ttl": 3500, "key": "saved"}, "refresh", id="min-ttl with key still refreshes"
    ),
    pytest.param(
        {"left": 1000, "lifetime": 1200, "min_ttl": 3000, "seen": "other"},
        "use",
        id="min-ttl beyond what the server grants: not renewed twice",
    ),
    pytest.param(
        {"left": 1000, "min_ttl": 3000, "seen": "other"},
        "refresh",
        id="min-ttl: another's renewal too short",
    ),
    pytest.param(
        {"min_ttl": 3500, "failure": "unreachable", "failure_age": 5},
        "exit 5",
        id="min-ttl and an outage: no fallback",
    ),
    # a 401 from `nexla api` (renew_after_rejection: forced, the token refused)
    pytest.param(
        {"seen": "stored", "seen_token_refused": True, "forced": True},
        "refresh",
        id="401 from api refreshes",
    ),
    pytest.param(
        {
            "seen": "stored",
            "seen_token_refused": True,
            "forced": True,
            "failure": "unreachable",
            "failure_age": 5,
        },
        "exit 5: the session for dataops.nexla.io could not be renewed: HTTP 502 5s ago; "
        "not retried for 30s",
        id="401 from api during an outage: not said to stay valid",
    ),
]


@pytest.mark.parametrize(("facts", "expected"), PLAN_ROWS)
def test_plan(facts, expected):
    step = renewal_plan.plan(situation(**facts))
    assert matches(step, expected), described(step)


NO_ROOM = ConfigError("no room in /home/ada/.config/nexla to rewrite the credentials")

NOT_SENT_ROWS = [
    pytest.param(DUE, "use, warning: did not refresh … (no room in", id="due token used"),
    pytest.param(EXPIRED, "exit 3: no room", id="expired token is exit 3"),
    pytest.param({"forced": True}, "exit 3", id="token refresh is exit 3"),
    pytest.param({"min_ttl": 3500}, "exit 3", id="min-ttl cannot fall back"),
    pytest.param(
        {**DUE, "seen": "stored", "seen_token_refused": True}, "exit 3", id="refused token"
    ),
]


@pytest.mark.parametrize(("facts", "expected"), NOT_SENT_ROWS)
def test_nothing_sent(facts, expected):
    step = renewal_plan.not_sent(situation(**facts), NO_ROOM.message, NO_ROOM)
    assert matches(step, expected), described(step)


UNREADABLE = KeyStorageError("cannot read the service key for dataops.nexla.io from the OS keyring")
SESSION = Answer("session", NEW)
REFUSED = Answer("refused")
NO_REFRESH = Answer("not offered", message="HTTP 404")
OUTAGE = Answer("unreachable", message="timed out")

# (facts, request sent, answer, refused_now) -> (next step, kind recorded, key refused)
JUDGE_ROWS = [
    pytest.param(DUE, "refresh", SESSION, False, "use tok-new", None, False, id="refreshed"),
    pytest.param(
        DUE, "refresh", REFUSED, False, "exit 4: … refuse", "rejected", False, id="refused: dead"
    ),
    pytest.param(
        {**DUE, "key": "saved"},
        "refresh",
        REFUSED,
        False,
        "mint",
        "rejected",
        False,
        id="refused: mint from the key",
    ),
    pytest.param(
        {**DUE, "key": "refused"},
        "refresh",
        REFUSED,
        False,
        "exit 4: … rejected earlier",
        "rejected",
        False,
        id="refused: the refused key is not sent",
    ),
    pytest.param(
        DUE,
        "refresh",
        NO_REFRESH,
        False,
        "use, warning: … does not refresh sessions (HTTP 404)",
        "not_offered",
        False,
        id="no refresh: used while valid",
    ),
    pytest.param(
        {**DUE, "forced": True},
        "refresh",
        NO_REFRESH,
        False,
        "exit 4: … (HTTP 404)",
        "not_offered",
        False,
        id="no refresh: token refresh exit 4",
    ),
    pytest.param(
        EXPIRED,
        "refresh",
        NO_REFRESH,
        False,
        "exit 4",
        "not_offered",
        False,
        id="no refresh: expired exit 4",
    ),
    pytest.param(
        {**DUE, "key": "saved"},
        "refresh",
        NO_REFRESH,
        False,
        "mint",
        "not_offered",
        False,
        id="no refresh: mint from the key",
    ),
    pytest.param(
        DUE,
        "refresh",
        OUTAGE,
        False,
        "use, warning: could not refresh … (timed out)",
        "unreachable",
        False,
        id="outage: valid token used",
    ),
    pytest.param(
        EXPIRED,
        "refresh",
        OUTAGE,
        False,
        "exit 5: … has expired",
        "unreachable",
        False,
        id="outage: expired exit 5",
    ),
    pytest.param(
        {**DUE, "forced": True},
        "refresh",
        OUTAGE,
        False,
        "exit 5: … stays valid until",
        "unreachable",
        False,
        id="outage: token refresh exit 5",
    ),
    pytest.param(
        {"seen": "stored", "seen_token_refused": True, "forced": True},
        "refresh",
        OUTAGE,
        False,
        "exit 5: the session for dataops.nexla.io could not be renewed: timed out",
        "unreachable",
        False,
        id="outage after a 401: not said to stay valid",
    ),
    pytest.param(
        {**EXPIRED, "key": "saved"},
        "mint",
        SESSION,
        False,
        "use tok-new",
        None,
        False,
        id="minted",
    ),
    pytest.param(
        {**EXPIRED, "key": "saved"},
        "mint",
        REFUSED,
        False,
        "exit 4: the saved service key",
        "rejected",
        True,
        id="key refused: remembered",
    ),
    pytest.param(
        {**DUE, "key": "saved", "failure": "not_offered"},
        "mint",
        REFUSED,
        False,
        "exit 4: the saved service key",
        None,
        True,
        id="key refused while valid",
    ),
    pytest.param(
        {**EXPIRED, "key": "saved"},
        "mint",
        REFUSED,
        True,
        "exit 4: the saved service key",
        None,
        True,
        id="key refused after a refused refresh",
    ),
    pytest.param(
        {**DUE, "key": "saved"},
        "mint",
        OUTAGE,
        True,
        "exit 5: … was refused and a new one could not be minted",
        None,
        False,
        id="mint outage after a refused refresh",
    ),
    pytest.param(
        {**EXPIRED, "key": "saved"},
        "mint",
        OUTAGE,
        False,
        "exit 5: … has expired",
        "unreachable",
        False,
        id="mint outage: expired exit 5",
    ),
    pytest.param(
        {**EXPIRED, "key": "saved"},
        "mint",
        Answer("key unreadable", error=UNREADABLE),
        False,
        "exit 3: cannot read the service key",
        None,
        False,
        id="key unreadable: exit 3",
    ),
]


@pytest.mark.parametrize(
    ("facts", "sent", "answer", "refused_now", "expected", "recorded", "key_refused"), JUDGE_ROWS
)
def test_judge(facts, sent, answer, refused_now, expected, recorded, key_refused):
    verdict = renewal_plan.judge(situation(**facts), sent, answer, refused_now=refused_now)
    assert matches(verdict.step, expected), described(verdict.step)
    assert (verdict.failure or {}).get("kind") == recorded
    assert verdict.key_refused is key_refused


def test_the_tables_cover_every_rule():
    assert len(PLAN_ROWS) + len(NOT_SENT_ROWS) + len(JUDGE_ROWS) >= 40


# Properties over any situation ------------------------------------------------------------

situations = st.builds(
    situation,
    left=st.integers(-7200, 7200),
    lifetime=st.integers(0, 7200),
    ahead=st.sampled_from([0, 0, 3, 600]),
    failure=st.sampled_from([None, "rejected", "not_offered", "unreachable"]),
    failure_age=st.sampled_from([-60, 0, 10, 29, 30, 600]),
    seen=st.sampled_from([None, "stored", "other"]),
    key=st.sampled_from(["none", "saved", "refused"]),
    api_url_overridden=st.booleans(),
    foreign_api_url=st.sampled_from([None, FOREIGN]),
    margin_override=st.sampled_from([None, 0.0, 60.0, 4000.0]),
    min_ttl=st.sampled_from([0, 60, 3500, 9000]),
    forced=st.booleans(),
    seen_token_refused=st.booleans(),
)
answers = st.sampled_from([REFUSED, NO_REFRESH, OUTAGE, Answer("key unreadable", error=UNREADABLE)])


def every_step(s: Situation, answer: Answer) -> list[renewal_plan.Step]:
    """What the plan says, what nothing sent falls back to, and what each request's failed
    answer leads to: every step a renewal of `s` can take on the stored session."""
    steps = [renewal_plan.plan(s), renewal_plan.not_sent(s, NO_ROOM.message, NO_ROOM)]
    for sent in ("refresh", "mint"):
        if sent == "mint" and answer.kind == "not offered":
            continue  # only a refresh is answered so
        for refused_now in (False, True):
            steps.append(renewal_plan.judge(s, sent, answer, refused_now=refused_now).step)
    return steps


def uses_the_stored_token(step: renewal_plan.Step) -> bool:
    return isinstance(step, Use) and step.session.access_token == TOKEN


@given(situations, answers)
def test_an_expired_token_is_never_used(s, answer):
    if s.expired:
        assert not any(uses_the_stored_token(step) for step in every_step(s, answer))


@given(situations, answers)
def test_a_mint_needs_a_usable_key_and_a_refused_key_is_never_sent_again(s, answer):
    if s.key != "saved":
        steps = every_step(s, answer)
        assert Send("mint") not in steps


@given(situations, answers)
def test_a_forced_renewal_never_hands_out_the_token_it_was_asked_to_replace(s, answer):
    # docs/sessions.md: a renewal that waited for the lock uses what another process
    # renewed meanwhile; nothing else stands in for a refresh that was asked for.
    if s.forced and s.seen_token != "tok-seen-earlier":
        assert not any(isinstance(step, Use) for step in every_step(s, answer))
