"""Environment names, property-based (README, "Environments"; names.normalize_env_name).

Whatever is typed, normalisation ends in a name or a usage error (exit 2), never another
exception; a name it returns is in normal form already, one line of printable ASCII.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.core.errors import UsageError
from nexla_cli.core.names import normalize_env_name

HOSTISH = st.from_regex(
    r"(https?://)?[A-Za-z0-9.\-]{1,30}(:[0-9]{1,6})?(/token)?/?\.?", fullmatch=True
)


@given(st.one_of(st.text(max_size=80), HOSTISH))
@example("https://DataOps.Nexla.io/token")
@example("[::1]:8443")
@example("straße.de")
@example("a" * 64 + ".com")
@example("")
def test_any_text_is_a_normal_name_or_a_usage_error(raw):
    try:
        name = normalize_env_name(raw)
    except UsageError as exc:
        assert exc.exit_code == 2 and "\n" not in exc.message
        return
    assert name == normalize_env_name(name)  # normal form is a fixed point
    assert name.isascii() and name.isprintable() and " " not in name
    assert name == name.lower() and not name.endswith((".", ":443"))


@given(HOSTISH)
def test_spellings_of_one_host_agree(raw):
    try:
        name = normalize_env_name(raw)
    except UsageError:
        return
    assert normalize_env_name(f"https://{name}/") == name
    assert normalize_env_name(f"{name.upper()}") == name
