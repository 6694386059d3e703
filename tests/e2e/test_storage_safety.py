"""Odd files and directories where the credentials live (docs/storage.md).

- The credentials file is read only when it is a regular file of at most 16 MiB: a FIFO, a
  device or a huge file is exit 3 at once (never a hang, never all memory), and commands
  that start over set it aside as they do a corrupt file. JSON nested thousands deep is a
  corrupt file like any other.
- No chmod, read or write follows a symlink: a credentials file or lock file that is a link
  is refused (exit 3) and left alone.
- A shared config directory (sticky, setgid, writable by others) is refused and never
  chmod-ed; one of ours that others may read is tightened to 0700 with a notice.

Commands run as real `nexla` processes where a hang or a crash would show only there; the
store's own rules are checked in-process.
"""

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
