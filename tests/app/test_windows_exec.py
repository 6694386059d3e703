"""`token exec` starts a command found only through PATHEXT (`npm` is `npm.cmd` on Windows),
in-process with Windows' command search simulated (docs/portability.md): `;` between PATH
entries, PATHEXT, sys.platform "win32". The file found is a shell script here, which Linux
can start; on Windows it would be a batch file. The unit tier
(tests/unit/test_windows_exec.py) has the search and the signals themselves.
"""

from __future__ import annotations

import os
import shutil

from tests.support.other_systems import simulate
from tests.support.outcomes import describe


def test_a_command_found_through_pathext_is_run(nx, monkeypatch, tmp_path):
    nx.sign_in()
    bin_dir = tmp_path / "nodejs"
    bin_dir.mkdir()
    script = bin_dir / "npm.CMD"  # NTFS ignores case; PATHEXT spells it so
    script.write_text('#!/bin/sh\nprintf \'%s\\n\' "ran with $*" > "$OUT"\n')
    script.chmod(0o755)
    out = tmp_path / "out"
    env = nx.env_with(
        PATH=f"{tmp_path / 'empty'};{bin_dir}", PATHEXT=".COM;.EXE;.BAT;.CMD", OUT=str(out)
    )
    simulate(monkeypatch, "win32")
    monkeypatch.setattr(os, "pathsep", ";")
    monkeypatch.setenv("PATHEXT", ".COM;.EXE;.BAT;.CMD")
    monkeypatch.setattr(shutil, "_win_path_needs_curdir", lambda cmd, mode: False, raising=False)
    result = nx.run("token", "exec", "--", "npm", "ci", env=env)
    assert result.returncode == 0, describe(result)
    assert out.read_text() == "ran with ci\n"


def test_a_command_found_nowhere_is_127(nx, monkeypatch, tmp_path):
    nx.sign_in()
    simulate(monkeypatch, "win32")
    monkeypatch.setattr(os, "pathsep", ";")
    result = nx.run("token", "exec", "--", "npm", env=nx.env_with(PATH=str(tmp_path)))
    assert result.returncode == 127, describe(result)
    assert "npm: command not found" in result.stderr
