"""What each answer to a renewal leads to (docs/sessions.md, "What each answer means").

With a saved service key, a refresh refused or not offered (any 4xx) is followed by a mint,
as Nexla's SDK renews. Without one, 401/403 mean the session is dead, and 400/404/405 mean
the server has no refresh: the token is used while valid, and past that a sign-in is needed
(exit 4, never 5). A saved key the server refuses is not sent again. A session obtained
"in the future" means the clock moved: it is renewed rather than trusted.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support.outcomes import describe
from tests.support.processes import nexla_executable
from tests.support.stores import now, stored_session


# faketime (LD_PRELOAD)
@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime is not installed")
def test_a_sign_in_with_the_clock_ahead_is_renewed_on_the_real_clock(nx):
    token = nx.server.issue_token()
    signed_in = subprocess.run(
        [
            "faketime",
            "-f",
            "+2d",
            nexla_executable(),
            "env",
            "configure",
            nx.server.host,
            "--with-token",
        ],
        input=token + "\n",
        env=nx.env,
        cwd=nx.tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert signed_in.returncode == 0, describe(signed_in)
    assert stored_session(nx)["obtained_at"] > now() + 86400
    result = nx.ok("token", "print")
    assert nx.server.count("POST", "/token/refresh") == 1
    assert result.stdout.strip() == nx.server.issued[-1] != token
    assert stored_session(nx)["obtained_at"] <= now()
