"""Output streams and text from outside (docs/storage.md, "Output streams").

- stdout of `token print` and `--print` holds the token alone, even when stderr is closed or
  cannot be written: a warning that cannot go to stderr is dropped, the exit code unchanged.
- A closed stdout, an encoding that cannot hold a user's name, a lone surrogate from a
  server, no home directory: a clean outcome, never exit 1.
- Text from a server is shown with control characters escaped; TERM=dumb gets no escape
  sequences.
"""

from __future__ import annotations

import os
import pwd

import pytest

from tests.support.encodings import assert_names_written_with_escapes, encoding_cases
from tests.support.inprocess import run_in_process
from tests.support.outcomes import describe

CONFIG = 3


# ---- encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize(("user", "encoding"), encoding_cases(real_process=False))
def test_names_any_encoding_cannot_hold_are_written_with_escapes(nx, user, encoding):
    assert_names_written_with_escapes(nx, user, encoding)


# ---- control characters from a server -----------------------------------------------------

HOSTILE_USER = {"id": 9, "email": "x@example.com", "full_name": "Eve\x1b]0;PWNED\x07\x1b[2J"}
HOSTILE_ORG = {"id": 8, "name": "Org\nerror: forged line\x9b31m"}


def test_names_from_a_server_cannot_move_the_cursor_or_forge_a_line(nx):
    token = nx.server.issue_token(user=HOSTILE_USER, org=HOSTILE_ORG)
    results = [nx.run("env", "configure", nx.server.host, "--with-token", input=token)]
    for args in (("env", "list"), ("token", "status"), ("env", "show")):
        results.append(nx.run(*args))
    for result in results:
        assert result.returncode == 0, describe(result)
        both = result.stdout + result.stderr
        assert "\x1b" not in both and "\x07" not in both and "\x9b" not in both, describe(result)
        assert not any(line.startswith("error:") for line in both.splitlines()), describe(result)
        assert "\\x1b]0;PWNED\\x07" in both and "Org\\nerror: forged line" in both


# ---- where the configuration lives ---------------------------------------------------------


def test_no_home_directory_is_a_config_error(tmp_path, monkeypatch, capsys):
    """HOME unset under a uid with no passwd entry (as in some containers). Running as such a
    uid needs root and an interpreter it may read, so the lookup is made to fail instead."""

    def no_entry(uid):
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    for name in [n for n in os.environ if n.startswith("NEXLA_")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    monkeypatch.chdir(tmp_path)
    environ = {
        name: value
        for name, value in os.environ.items()
        if name not in ("HOME", "XDG_CONFIG_HOME") and not name.startswith("NEXLA_")
    }
    captured = run_in_process(["env", "list"], env=environ, cwd=tmp_path)
    assert captured.returncode == CONFIG
    assert captured.stderr.startswith("error: ") and "NEXLA_CONFIG_DIR" in captured.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written relative to the working directory


def test_a_config_dir_under_an_unknown_user_is_a_config_error(nx):
    unknown_user = nx.env_with(NEXLA_CONFIG_DIR="~nosuchuser-x/nexla")
    result = nx.fails(CONFIG, "env", "list", env=unknown_user)
    assert result.stderr.startswith("error: ") and "~nosuchuser-x" in result.stderr
