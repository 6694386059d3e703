"""Checking how a `nexla` run ended: exit code, one `error:` line, nothing unpresentable.

README.md promises a failure is one line (plus an optional hint), never a traceback or a
server's HTML page; these are the checks every suite makes of that.
"""

from __future__ import annotations

import subprocess

# A 5xx page as a proxy or load balancer sends it; none of it may reach the user's terminal.
HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    "<body><h1>Bad Gateway</h1><p>PAGE-MARKER upstream said no</p></body></html>\n"
)
PAGE_MARKER = "PAGE-MARKER"


def describe(results) -> str:
    """Exit code and output of one run or many, for assertion messages."""
    if isinstance(results, subprocess.CompletedProcess):
        results = [results]
    return "\n".join(
        f"exit {r.returncode}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}" for r in results
    )


def warnings_in(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning: ")]


def assert_presentable(result: subprocess.CompletedProcess) -> None:
    """No traceback, no HTML page, no absurdly long line, whatever the outcome."""
    both = result.stdout + result.stderr
    assert "Traceback" not in both, describe(result)
    assert PAGE_MARKER not in both and "<html" not in both.lower(), describe(result)
    for line in result.stderr.splitlines():
        assert len(line) <= 500, f"overlong line: {line[:120]}…"


def assert_error(result: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """Exit `code`, exactly one `error:` line (mentioning any of `needles`), nothing on
    stdout, and presentable."""
    assert result.returncode == code, describe(result)
    assert_presentable(result)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, describe(result)
    assert result.stdout == "", describe(result)
    if needles:
        assert any(n.lower() in errors[0].lower() for n in needles), (needles, describe(result))
    return errors[0]


def assert_clean_error(result, code: int, *fragments: str) -> None:
    """Exit `code`, one `error:` line (plus an optional hint) on stderr, no traceback, and
    every one of `fragments` somewhere in stderr (stdout may hold a report)."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
