"""How the three dotenv readers named in docs/scripting.md ("Details") read a line back.

python-dotenv is the real one. docker and systemd cannot run here; their rules, as the docs
state them, are predicates on the line written:
- docker `--env-file`: a line is NAME=VALUE, the value taken literally to the end of the
  line (quotes, `$` and backslashes included), the file UTF-8;
- systemd `EnvironmentFile=`: a bare value has its surrounding whitespace dropped, a
  backslash escapes the next character (and drops itself), and a value that starts with a
  single or double quote is a quoted one; `$` is not expanded."""

from __future__ import annotations

import io

import pytest

dotenv = pytest.importorskip("dotenv")


def python_dotenv(text: str) -> dict:
    return dict(dotenv.dotenv_values(stream=io.StringIO(text), interpolate=True))


def docker_reads_back(line: str, name: str, value: str) -> bool:
    # Literal to the end of the line; one line; UTF-8.
    return line == f"{name}={value}" and "\n" not in line and "\r" not in line


def systemd_reads_back(line: str, name: str, value: str) -> bool:
    # Bare: nothing escaped, not taken for a quoted value, no whitespace to drop.
    written = line.partition("=")[2]
    return (
        written == value
        and "\\" not in written
        and written[:1] not in ("'", '"')
        and written == written.strip()
    )
