"""Which environment a command acts on, and where the choice came from (docs/usage.md):
--env, else $NEXLA_ENV, else the current environment. One rule, in nexla_cli/core/envchoice.py,
for the fast path and the full app."""

from __future__ import annotations

from tests.support.outcomes import assert_clean_error


def test_an_unknown_environment_from_the_variable_says_so(nx):
    nx.sign_in()
    result = nx.run("env", "show", env=nx.env_with(NEXLA_ENV="typo.example.com"))
    assert_clean_error(result, 3, "unknown environment: typo.example.com (from NEXLA_ENV)")
    named = nx.run("env", "show", "--env", "typo.example.com")
    assert_clean_error(named, 3, "unknown environment: typo.example.com")
    assert "(from" not in named.stderr
