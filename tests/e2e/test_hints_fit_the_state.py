"""The hint after a renewal whose answer could not be stored fits what is saved
(docs/signing-in.md, "What each failure means"): with a saved service key it is
`nexla token refresh`, which then works and keeps the key. Without a key it is
`nexla env login` (tests/e2e/test_session_transaction.py). A real process: only a file-size
limit makes the write fail after the server has answered."""

from __future__ import annotations

from tests.support.inprocess import run_in_process
from tests.support.outcomes import assert_error, describe
from tests.support.processes import run_with_file_limit
from tests.support.signing_in import seed
from tests.support.stores import env_record

KEY = "svc-key-hints"


# RLIMIT_FSIZE
def test_an_answer_not_stored_with_a_saved_key_points_at_token_refresh(nx):
    nx.server.add_service_key(KEY)
    # The refresh answer is far bigger than the room reserved for it: its write fails after
    # the server rotated the token.
    huge_user = {"id": 42, "email": "ada@example.com", "full_name": "A" * 200_000}
    seed(nx, nx.server.issue_token(user=huge_user), service_key=KEY)
    result = run_with_file_limit(nx, 100_000, "token", "refresh")
    assert_error(result, 3, "could not be stored")
    (hint,) = [line for line in result.stderr.splitlines() if line.startswith("hint: ")]
    assert "env login" not in hint, hint
    assert f"nexla token refresh --env {nx.server.host}" in hint
    later = run_in_process(["token", "refresh"], env=nx.env, cwd=nx.tmp_path)
    assert later.returncode == 0, describe(later)
    assert nx.server.count("POST", "/token") == 1  # minted from the key
    assert env_record(nx.config_dir, nx.server.host).get("saved_key")
