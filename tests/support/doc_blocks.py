"""The console examples of README.md and docs/*.md: found, split into commands and their
output, normalised and compared (pure: no run of `nexla`; tests/support/transcripts.py runs
them, tests/app/test_doc_examples.py ties the two together).

The conventions, as docs/architecture.md ("Examples in the docs") states them for writers:
- A ```console block is a terminal transcript: `$ ` lines are commands, the lines under one
  are what the terminal showed (stdout and stderr as they came, a prompt's typed answer
  after it, a hidden one not at all). ```sh blocks hold commands without output.
- The line just above a console block (or above any block with a `$ nexla` line) says
  what it is: `<!-- example: SETUP [ARG…] -->` (run by the tests, from the named setup) or
  `<!-- not run: WHY -->`.
- In the expected output a line that is only `…` stands for any lines (none included),
  and `…` inside a line for any text on that line.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "$ "
ELLIPSIS = "…"

_FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
_MARKER = re.compile(r"^<!--\s*(example|not run):\s*(.*?)\s*-->$")
_HEADING = re.compile(r"^#+\s+(.*)$")


@dataclass(frozen=True)
class Block:
    """One fenced block of a Markdown file."""

    path: str  # relative to the project's root, e.g. "docs/scripting.md"
    line: int  # the line of the opening fence, from 1
    lang: str  # the fence's language tag ("" when none)
    lines: tuple[str, ...]  # the lines inside the fences
    heading: str  # the nearest heading above it
    marker: str | None  # "example", "not run" or None: the comment just above the fence
    marker_text: str  # what follows the marker's colon

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def is_console(self) -> bool:
        """A transcript: tagged `console`, or showing a `$ ` line that runs nexla."""
        return self.lang == "console" or any(
            line.startswith(PROMPT) and "nexla" in line for line in self.lines
        )

    @property
    def setup(self) -> tuple[str, tuple[str, ...]]:
        """(name, args) of an `example:` marker."""
        words = self.marker_text.split()
        return (words[0] if words else ""), tuple(words[1:])

    def steps(self) -> list[tuple[str, list[str]]]:
        """(command, expected output lines) for each `$ ` line, in order."""
        found: list[tuple[str, list[str]]] = []
        for line in self.lines:
            if line.startswith(PROMPT):
                found.append((line[len(PROMPT) :], []))
            elif found:
                found[-1][1].append(line)
            elif line.strip():
                raise ValueError(f"{self.where}: output before the first `$ ` line: {line!r}")
        return found


def documents(root: Path = ROOT) -> list[Path]:
    """The user docs: README.md and docs/*.md (docs/reference.md is generated from --help)."""
    docs = sorted(path for path in (root / "docs").glob("*.md") if path.name != "reference.md")
    return [root / "README.md", *docs]


def blocks_of(path: Path, root: Path = ROOT) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found, heading, number = [], "", 0
    while number < len(lines):
        text = lines[number]
        title = _HEADING.match(text)
        if title:
            heading = title.group(1)
        fence = _FENCE.match(text)
        if not fence:
            number += 1
            continue
        end = number + 1
        while end < len(lines) and not re.match(r"^\s*```\s*$", lines[end]):
            end += 1
        indent = len(fence.group(1))
        marker = _MARKER.match(lines[number - 1].strip()) if number else None
        found.append(
            Block(
                path=path.relative_to(root).as_posix(),
                line=number + 1,
                lang=fence.group(2),
                lines=tuple(line[indent:] for line in lines[number + 1 : end]),
                heading=heading,
                marker=marker.group(1) if marker else None,
                marker_text=marker.group(2) if marker else "",
            )
        )
        number = end + 1
    return found


def console_blocks(root: Path = ROOT) -> list[Block]:
    return [
        block for path in documents(root) for block in blocks_of(path, root) if block.is_console
    ]


# ---- what varies from run to run ------------------------------------------------------------

_NORMALISED = [
    # An instant: 2026-11-27T22:02:16Z
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"), "<TIME>"),
    # The digits of a duration, its units kept (`59m` and `3586s` stay different): 1h 2m, 40s
    (re.compile(r"\b\d+(?=[dhms]\b)"), "N"),
    # A loopback port: 127.0.0.1:43211
    (re.compile(r"\b(127\.0\.0\.1|localhost|\[::1\]):\d{2,5}\b"), r"\1:PORT"),
    # A token of the test server, whole or masked (tok-AbC…xYz), or a JWT
    (re.compile(r"\btok-[A-Za-z0-9_\-…]+"), "tok-…"),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*"), "<JWT>"),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]?…[A-Za-z0-9_\-]{4}\b"), "<JWT>"),  # masked: eyJh…AbCd
    # A temporary directory of a run: /tmp/pytest-of-ada/pytest-12/test_x0, /tmp/fake-nexla-ab12
    (
        re.compile(r"/tmp/(?:pytest-of-[^/\s]+/pytest-\d+/[^/\s]+|fake-nexla-[^/\s]+|tmp\w+)"),
        "<TMP>",
    ),
    # Seconds and Unix times in JSON: "expires_in": 3599, "obtained_at": 1796252400
    (re.compile(r'("(?:expires_in|expires_at|obtained_at|[a-z_]*_at)": )\d+'), r"\1N"),
]


def normalise(line: str) -> str:
    """A line with what differs between runs (times, durations' digits, ports, tokens)
    replaced by placeholders, and no trailing blanks."""
    for pattern, replacement in _NORMALISED:
        line = pattern.sub(replacement, line)
    return line.rstrip()


def _line_matches(expected: str, actual: str) -> bool:
    if ELLIPSIS not in expected:
        return expected == actual
    pattern = ".*".join(re.escape(part) for part in expected.split(ELLIPSIS))
    return re.fullmatch(pattern, actual) is not None


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether the lines match, both normalised: `…` alone on a line stands for any lines,
    `…` in a line for any text."""
    expected = [normalise(line) for line in expected]
    actual = [normalise(line) for line in actual]
    return _match_from(expected, actual, 0, 0)


def _match_from(expected: list[str], actual: list[str], i: int, j: int) -> bool:
    while i < len(expected):
        if expected[i].strip() in (ELLIPSIS, "..."):
            return any(_match_from(expected, actual, i + 1, k) for k in range(j, len(actual) + 1))
        if j >= len(actual) or not _line_matches(expected[i], actual[j]):
            return False
        i, j = i + 1, j + 1
    return j == len(actual)


def difference(where: str, expected: list[str], actual: list[str]) -> str:
    """A unified diff of the two, normalised: what the doc shows against what ran."""
    return "\n".join(
        difflib.unified_diff(
            [normalise(line) for line in expected],
            [normalise(line) for line in actual],
            fromfile=f"{where} (the doc, normalised)",
            tofile="what nexla printed (normalised)",
            lineterm="",
        )
    )
