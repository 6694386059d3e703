"""The unit tier of tests/app/test_envchoice.py, whose docstring says what is promised: the pure
functions behind its promises, called directly: no server, no run of the app."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nexla_cli.core import envchoice

names = st.one_of(st.none(), st.text(max_size=12))


@given(explicit=names, variable=names, current=names)
def test_the_option_wins_then_the_variable_then_the_current_environment(
    explicit, variable, current
):
    environ = {} if variable is None else {"NEXLA_ENV": variable}
    choice = envchoice.choose(explicit, environ, current)
    if explicit:
        assert (choice.name, choice.source) == (explicit, envchoice.FROM_OPTION)
    elif variable is not None and variable.strip():
        assert (choice.name, choice.source) == (variable.strip(), envchoice.FROM_VARIABLE)
    elif current:
        assert (choice.name, choice.source) == (current, envchoice.FROM_CURRENT)
    else:
        assert (choice.name, choice.source) == (None, None)
