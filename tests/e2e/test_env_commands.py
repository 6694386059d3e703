"""The e2e tier of tests/app/test_env_commands.py, whose docstring says what is promised: the cases
that need a real `nexla` process (a terminal, signals, several processes, what a fresh
interpreter loads)."""

import subprocess
import sys

from tests.support.outcomes import assert_clean_error
from tests.support.processes import nexla_executable
from tests.support.stores import store_path

# --- packaging ------------------------------------------------------------------------------


# the console script itself
def test_version_of_the_console_script(nx):
    from nexla_cli import __version__

    result = nx.ok("--version")
    assert result.stdout == f"nexla {__version__}\n"


# `python -m nexla_cli` itself
def test_python_dash_m_names_itself_nexla(nx, tmp_path):
    from nexla_cli import __version__

    version = subprocess.run(
        [sys.executable, "-m", "nexla_cli", "--version"],
        env=nx.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert version.returncode == 0
    assert version.stdout == f"nexla {__version__}\n"
    usage = subprocess.run(
        [sys.executable, "-m", "nexla_cli", "env", "--help"],
        env=nx.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert usage.returncode == 0
    assert "Usage: nexla env" in usage.stdout


# --- bad input ------------------------------------------------------------------------------


# the offset of a stdin file shared with the test
def test_configure_without_host_on_a_pipe_is_a_usage_error_and_reads_nothing(nx, tmp_path):
    # stdin is a file shared with this process: its offset shows whether the CLI read it.
    feed = tmp_path / "stdin.txt"
    feed.write_text(f"{nx.server.host}\n{nx.server.issue_token()}\n")
    with open(feed, "rb") as stdin:
        result = subprocess.run(
            [nexla_executable(), "env", "configure"],
            stdin=stdin,
            env=nx.env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        offset = stdin.tell()
    assert_clean_error(result, 2, "HOST")
    assert offset == 0
    assert nx.server.count() == 0
    assert not store_path(nx.config_dir).exists()
