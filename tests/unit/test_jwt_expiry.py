"""The unit tier of tests/app/test_jwt_expiry.py, whose docstring says what is promised: the pure
functions behind its promises, called directly: no server, no run of the app."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.core.model import (
    ESTIMATED_LIFETIME_SECONDS,
    MAX_TOKEN_LIFETIME_SECONDS,
    jwt_expiry,
    pasted_token_expiry,
)
from tests.support.fake_nexla import make_jwt

NOW = 1_800_000_000


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def with_claims_text(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return f"{b64url(b'{}')}.{b64url(raw)}.sig"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.text(max_size=300))
def test_any_string_gives_an_answer(token):
    result = jwt_expiry(token, NOW)
    assert result is None or (isinstance(result, int) and NOW < result)
    expires_at, estimated = pasted_token_expiry(token, NOW)
    assert estimated == (result is None)
    assert expires_at == (NOW + ESTIMATED_LIFETIME_SECONDS if result is None else result)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.="))
def test_any_base64url_looking_string_gives_an_answer(token):
    result = jwt_expiry(token, NOW)
    assert result is None or NOW < result <= NOW + MAX_TOKEN_LIFETIME_SECONDS


@given(st.binary(max_size=200))
def test_any_bytes_in_the_claims_part_give_an_answer(raw):
    result = jwt_expiry(with_claims_text(raw), NOW)
    assert result is None or NOW < result <= NOW + MAX_TOKEN_LIFETIME_SECONDS


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5), json_values)
def test_any_claims_and_any_exp_give_an_answer(claims, exp):
    token = with_claims_text(json.dumps({**claims, "exp": exp}))
    result = jwt_expiry(token, NOW)
    usable = (
        isinstance(exp, (int, float))
        and not isinstance(exp, bool)
        and exp == exp  # not NaN
        and NOW < exp <= NOW + MAX_TOKEN_LIFETIME_SECONDS
    )
    assert result == (int(exp) if usable else None)


@given(st.integers(min_value=NOW + 1, max_value=NOW + MAX_TOKEN_LIFETIME_SECONDS))
def test_a_usable_exp_is_the_expiry(exp):
    token = make_jwt({"sub": "42", "exp": exp})
    assert jwt_expiry(token, NOW) == exp
    assert pasted_token_expiry(token, NOW) == (exp, False)


@settings(max_examples=50)
@given(st.floats(min_value=NOW + 1, max_value=NOW + MAX_TOKEN_LIFETIME_SECONDS))
def test_a_fractional_exp_is_rounded_down(exp):
    assert jwt_expiry(make_jwt({"exp": exp}), NOW) == int(exp)


def test_hostile_values_fall_back_to_the_estimate():
    hostile_claims = [
        '{"exp": NaN}',
        '{"exp": Infinity}',
        '{"exp": -Infinity}',
        '{"exp": 1e400}',
        '{"exp": -1}',
        '{"exp": 0}',
        f'{{"exp": {NOW}}}',  # already expired: the server is asked, not the token
        f'{{"exp": {NOW + MAX_TOKEN_LIFETIME_SECONDS + 1}}}',  # over a year ahead
        '{"exp": ' + "9" * 5000 + "}",  # beyond Python's int-from-text limit
        '{"exp": "1900000000"}',
        '{"exp": true}',
        '{"exp": null}',
        '{"exp": [1900000000]}',
        '{"sub": "42"}',
        "[1900000000]",
        '"exp"',
        "{not json",
        "[" * 100_000 + "]" * 100_000,  # nested past the recursion limit
    ]
    tokens = [with_claims_text(text) for text in hostile_claims] + [
        with_claims_text(b'{"exp": 1900000000}'.decode().encode("utf-16-le")[:-1]),  # broken
        with_claims_text(b'{"exp": \xff1900000000}'),  # not UTF-8
        "a.b",  # two parts
        "a.b.c.d",  # four parts
        ".e30.sig",  # empty header
        "e30..sig",  # empty claims
        "e30.eyJleHAiOjE5MDAwMDAwMDB9=.sig",  # padding is not base64url's
        "e30.eyJle+HAiOjE5MDAwMDAwMDB9.sig",  # a character outside the alphabet
        "e30.e.sig",  # one character: impossible length
        "tok-abcdef",
        "",
        "é.é.é",
        "x" * 20_000,
    ]
    for token in tokens:
        assert jwt_expiry(token, NOW) is None, token[:80]
        assert pasted_token_expiry(token, NOW) == (NOW + ESTIMATED_LIFETIME_SECONDS, True)


def test_the_signature_is_never_checked():
    token = make_jwt({"exp": NOW + 600}, header={"alg": "none"})
    head, claims, _ = token.split(".")
    assert jwt_expiry(f"{head}.{claims}.", NOW) == NOW + 600
    assert jwt_expiry(f"{head}.{claims}.not-a-signature", NOW) == NOW + 600


