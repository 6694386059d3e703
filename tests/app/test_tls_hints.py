"""A certificate not trusted is a matter of the CA, not of waiting: the hint says so; a CA
bundle with no certificate in it is named as such, before anything is sent
(docs/network.md, "Proxies and CA bundles")."""

from __future__ import annotations

import pytest
import trustme

from tests.support.outcomes import describe

COMMANDS = [
    ("api", "/users/current"),
    ("token", "refresh"),
    ("env", "configure", "HOST", "--with-token"),
    ("env", "list", "--check"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_an_untrusted_certificate_hints_at_the_ca(nx, tmp_path, args):
    nx.sign_in()
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    args = tuple(nx.server.host if arg == "HOST" else arg for arg in args)
    result = nx.fails(5, *args, input="tok\n", env=nx.env_with(REQUESTS_CA_BUNDLE=str(other_ca)))
    hint = result.stderr.splitlines()[-1]
    assert "the certificate is not trusted" in result.stdout + result.stderr, describe(result)
    assert hint.startswith("hint: point REQUESTS_CA_BUNDLE at a PEM file"), describe(result)
    assert "reachable" not in result.stderr


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_bundle_that_is_no_certificate_file_is_named_so(nx, tmp_path, variable):
    nx.sign_in()
    not_pem = tmp_path / "hostname"
    not_pem.write_text("build-host-7\n")
    env = nx.env_with(**{"REQUESTS_CA_BUNDLE": None, variable: str(not_pem)})
    result = nx.fails(2, "api", "/users/current", env=env)
    assert result.stderr.splitlines()[0] == (
        f"error: the CA bundle named by {variable} is not a certificate file: {not_pem}"
    )
    assert nx.server.count() == 0
