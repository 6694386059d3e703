"""TAB after --org offers the orgs signed in to (README, "Several orgs"): answered by the fast
completion without Typer, exactly as Typer's completion answers it."""

from __future__ import annotations

import pytest

from tests.support.orgs import sign_in_to_both
from tests.support.tab_presses import PROTOCOLS, protocol_variables, tab_press


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    "line",
    ["nexla token print --org ", "nexla token print --org Gl", "nexla env use HOST --org "],
)
def test_org_names_after_org_as_typer_offers_them(nx, protocol, line):
    sign_in_to_both(nx)
    variables = protocol_variables(protocol, line.replace("HOST", nx.server.host))
    fast = tab_press(nx, variables, "fast")
    assert fast[0] is not None, "answered by the fast completion"
    assert fast == tab_press(nx, variables, "typer")
    if protocol != "fish is-args":
        assert "Globex" in fast[1]
        assert ("Acme" in fast[1]) is line.endswith(" ")


def test_an_org_whose_name_is_no_shell_word_is_offered_by_id(nx):
    from tests.support.fake_nexla import DEFAULT_USER

    token = nx.server.issue_token(DEFAULT_USER, {"id": 12, "name": "Two Words"})
    nx.ok("env", "configure", nx.server.host, "--with-token", input=token + "\n")
    variables = protocol_variables("bash", "nexla token print --org ")
    offered = tab_press(nx, variables, "fast")[1].split("\n")
    assert "12" in offered and not any("Two" in each for each in offered)
