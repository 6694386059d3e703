"""The README's cron line, run as cron runs it (README.md, "In scripts"): a real `nexla`
process called by its full path, with cron's bare environment (`PATH=/usr/bin:/bin`, HOME,
nothing else of the user's) and `-q` or NEXLA_QUIET=1: exit 0 and nothing at all on stdout or
stderr, so cron has nothing to mail. The in-process table is tests/app/test_quiet.py."""

from __future__ import annotations

import subprocess

import pytest

from tests.support.outcomes import describe
from tests.support.processes import nexla_executable

# What the test environment needs besides cron's own: where the credentials are, and the CA
# that makes the fake server trusted.
_KEPT = ("NEXLA_CONFIG_DIR", "REQUESTS_CA_BUNDLE", "HOME")


def _cron_environment(nx, **extra: str) -> dict[str, str]:
    env = {name: nx.env[name] for name in _KEPT if name in nx.env}
    return {"PATH": "/usr/bin:/bin", "SHELL": "/bin/sh", **env, **extra}


@pytest.mark.parametrize(
    "words, extra",
    [
        (["token", "refresh", "-q", "--env", "HOST"], {}),
        (["token", "refresh", "--env", "HOST"], {"NEXLA_QUIET": "1"}),
    ],
    ids=["-q", "NEXLA_QUIET=1"],
)
def test_the_cron_line_says_nothing_when_all_went_well(nx, words, extra):
    old = nx.sign_in()
    words = [word.replace("HOST", nx.server.host) for word in words]
    result = subprocess.run(
        [nexla_executable(), *words],
        env=_cron_environment(nx, **extra),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), describe(result)
    assert nx.server.count("POST", "/token/refresh") == 1
    assert not nx.server.is_valid(old)  # it did renew
