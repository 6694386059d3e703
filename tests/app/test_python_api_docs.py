"""Every Python example of the Python API's documentation runs: the code blocks of
docs/python.md, and those of README.md and docs/scripting.md that use `nexla_cli`, run in
this process against the fake Nexla API, signed in as the examples' `dataops.nexla.io`."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from tests.support.python_api import use_environment
from tests.support.signing_in import seed_pasted_token

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.M | re.S)
NAME = "dataops.nexla.io"  # the environment the examples name


def examples() -> list[tuple[str, str]]:
    found = []
    for doc in ("docs/python.md", "docs/scripting.md", "README.md"):
        for number, code in enumerate(BLOCK.findall((ROOT / doc).read_text()), 1):
            if doc == "docs/python.md" or "nexla_cli" in code:
                found.append((f"{doc}#{number}", code))
    return found


EXAMPLES = examples()


def test_the_examples_are_found():
    assert len([where for where, _ in EXAMPLES if where.startswith("docs/python.md")]) >= 6
    assert any(where.startswith("docs/scripting.md") for where, _ in EXAMPLES)


@pytest.mark.parametrize(("where", "code"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_every_python_example_runs(nx, monkeypatch, capsys, where, code):
    pytest.importorskip("nexla_sdk")
    token = nx.server.issue_token()
    seed_pasted_token(nx.config_dir, nx.server, token, NAME, api_url=nx.server.api_url)
    use_environment(monkeypatch, nx.env)
    names: dict = {"__name__": "__main__"}
    with warnings.catch_warnings():  # an example may set a filter: not for the other tests
        exec(compile(code, where, "exec"), names)
    assert capsys.readouterr().err == ""
    # What the examples name `token` and send is the session's token.
    assert names.get("token", token) == token
    assert all(record.authorization in (None, f"Bearer {token}") for record in nx.server.find())
