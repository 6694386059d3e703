"""The hidden token prompt counts the tries left in words that fit the number
(docs/signing-in.md, "At the prompt"): a real terminal, as only one has a hidden prompt."""

from __future__ import annotations

import pexpect

from tests.support.processes import nexla_executable
from tests.support.terminals import close_ended

TOKEN_PROMPT = "Enter ACCESS TOKEN:"


def test_empty_lines_count_down_two_tries_then_one_try(nx):
    child = pexpect.spawn(
        nexla_executable(),
        ["env", "configure", nx.server.host, "--no-browser"],
        env=nx.env,
        cwd=str(nx.tmp_path),
        encoding="utf-8",
        timeout=30,
        dimensions=(24, 200),
    )
    child.delaybeforesend = None
    child.expect_exact(TOKEN_PROMPT)
    child.sendline("")
    child.expect_exact("No token entered; paste it and press Enter (2 more tries).")
    child.expect_exact(TOKEN_PROMPT)
    child.sendline("")
    child.expect_exact("No token entered; paste it and press Enter (1 more try).")
    child.expect_exact(TOKEN_PROMPT)
    child.sendline("")
    child.expect(pexpect.EOF)
    close_ended(child)
    assert child.exitstatus == 2
