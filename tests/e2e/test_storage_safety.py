"""The e2e tier of tests/app/test_storage_safety.py, whose docstring says what is promised: the
cases that need a real `nexla` process (a terminal, signals, several processes, what a fresh
interpreter loads)."""

from __future__ import annotations

import subprocess

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from tests.support.outcomes import describe
from tests.support.processes import nexla_executable
from tests.support.stores import make_fifo_store

# Generous: a hang is what is being ruled out, not slowness on a loaded machine.
PROMPTLY = 30


# ---- a credentials file that is not a regular file ------------------------------------------


# TAB completion: the real program's own entry (it reads os.environ)
def test_tab_completion_does_not_hang_on_a_fifo(nx):
    make_fifo_store(nx)
    result = subprocess.run(
        [nexla_executable()],
        env=nx.env_with(
            _NEXLA_COMPLETE="complete_bash", COMP_WORDS="nexla\nenv\nuse\n", COMP_CWORD="3"
        ),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=PROMPTLY,
    )
    # No names to offer, and no files either (the bash script reads ":nofiles" so).
    assert (result.returncode, result.stdout.strip()) == (0, ":nofiles"), describe(result)
