"""A token piped to `nexla env configure` as a whole `Authorization` header value (`Bearer
TOKEN`) is taken as the token. The prompts at a real terminal are in
tests/e2e/test_env_interactive.py."""

import pytest

from tests.support.signing_in import configure
from tests.support.stores import stored_session

# The hidden prompt at a real terminal (docs/signing-in.md, "Guarantees") -----------------


# A typed and a piped token go through the same check, which knows the prefix in any case
# and followed by any blanks.
@pytest.mark.parametrize("prefix", ["Bearer ", "bearer  "])
def test_a_piped_bearer_header_value_is_taken_as_the_token(nx, prefix):
    token = nx.server.issue_token()
    configure(nx, nx.server.host, prefix + token)
    assert nx.server.last("GET", "/users/current").authorization == f"Bearer {token}"
    assert stored_session(nx)["access_token"] == token
