"""What a newcomer meets on a first try, in words that fit (README.md, docs/signing-in.md,
docs/network.md): each test states one friction that is gone."""

from __future__ import annotations

from tests.support.signing_in import second_name, seed_configured


def test_configure_with_a_host_does_not_list_the_environments(nx):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    result = nx.ok(
        "env", "configure", second_name(nx), "--with-token", input=nx.server.issue_token() + "\n"
    )
    assert "Available Environments:" not in result.stderr
    assert f"- {nx.server.host}" not in result.stderr
    assert f"Signed in to {second_name(nx)}" in result.stderr
