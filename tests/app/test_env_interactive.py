"""`nexla env configure` and `nexla env login` at a real terminal (a pseudo-terminal driven
with pexpect): the prompts, the browser, the hidden token, and Ctrl-C at every prompt."""

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
