"""How the docs' console examples are read and compared (tests/support/doc_blocks.py): what
varies between runs is normalised, and nothing else; `…` stands for what a doc leaves out.
The examples themselves run in tests/app/test_doc_examples.py."""

from __future__ import annotations

import pytest

from tests.support.doc_blocks import blocks_of, difference, matches, normalise


@pytest.mark.parametrize(
    ("line", "normalised"),
    [
        (
            "session expires in 59m (2026-11-27T22:02:16Z, estimated).",
            "session expires in Nm (<TIME>, estimated).",
        ),
        ("expired 3d ago (2026-11-24T01:00:00Z)", "expired Nd ago (<TIME>)"),
        ("ask for less than 1h 2m", "ask for less than Nh Nm"),
        ("cannot connect to 127.0.0.1:43211: refused", "cannot connect to 127.0.0.1:PORT: refused"),
        ("Token:           tok-AbCd…wXyZ", "Token:           tok-…"),
        ("Bearer eyJhbGciOiJI.eyJzdWIiOiI0MiJ9.c2ln", "Bearer <JWT>"),
        ("Token:           eyJh…AbCd", "Token:           <JWT>"),
        ('"expires_in": 3599, "obtained_at": 1796252400', '"expires_in": N, "obtained_at": N'),
        (
            "set REQUESTS_CA_BUNDLE=/tmp/fake-nexla-x1_y/ca.pem",
            "set REQUESTS_CA_BUNDLE=<TMP>/ca.pem",
        ),
        ("in /tmp/pytest-of-ada/pytest-3/test_it0/key.txt", "in <TMP>/key.txt"),
        ("trailing blanks   ", "trailing blanks"),
        # What does not vary stays: exit codes, statuses, option values, host names.
        ("exit 5, HTTP 200, --min-ttl 7200", "exit 5, HTTP 200, --min-ttl 7200"),
        ("dataops.nexla.io: valid session", "dataops.nexla.io: valid session"),
    ],
)
def test_what_varies_between_runs_is_normalised(line, normalised):
    assert normalise(line) == normalised


@pytest.mark.parametrize(
    ("expected", "actual", "same"),
    [
        (["a", "b"], ["a", "b"], True),
        (["a", "b"], ["a", "b", "c"], False),  # a line the doc lacks
        (["a", "b", "c"], ["a", "b"], False),  # a line nexla no longer prints
        (["a", "…", "d"], ["a", "b", "c", "d"], True),
        (["a", "…", "d"], ["a", "d"], True),  # none at all
        (["a", "...", "d"], ["a", "b", "d"], True),
        (["a", "…"], ["a", "b", "c"], True),
        (["a", "…", "d"], ["a", "b", "c"], False),
        (
            ["expires in 59m (…, estimated)"],
            ["expires in 12m (2026-01-01T00:00:00Z, estimated)"],
            True,
        ),
        (["expires in 59m (…, estimated)"], ["expires in 12m (2026-01-01T00:00:00Z)"], False),
        # A duration's unit is part of the format: seconds where minutes are shown is stale.
        (["(in 3599s)"], ["(in 59m)"], False),
        (
            ["expires 2026-11-30T04:52:17Z (in 59m)"],
            ["expires in 59m (2026-11-30T04:52:17Z)"],
            False,
        ),
    ],
)
def test_matching_the_doc_with_what_ran(expected, actual, same):
    assert matches(expected, actual) is same


def test_the_difference_shows_both_sides_normalised():
    diff = difference(
        "README.md:82",
        ["Signed in; session expires 2026-11-27T22:02:16Z (in 59m, estimated)."],
        ["Signed in; session expires in 59m (2026-12-04T18:01:02Z, estimated)."],
    )
    assert "--- README.md:82 (the doc, normalised)" in diff
    assert "-Signed in; session expires <TIME> (in Nm, estimated)." in diff
    assert "+Signed in; session expires in Nm (<TIME>, estimated)." in diff


def test_blocks_their_markers_and_steps_are_read(tmp_path):
    doc = tmp_path / "docs" / "page.md"
    doc.parent.mkdir()
    doc.write_text(
        "# Page\n\n## Signing in\n\n"
        "<!-- example: signed-in dataops.nexla.io -->\n"
        "```console\n$ nexla token status\nline one\n$ nexla env list\n```\n\n"
        "<!-- not run: another program's output -->\n"
        "```console\nHTTP 200\n```\n\n"
        "```\n$ nexla env show\n```\n\n"
        "```sh\nnexla token print\n```\n"
    )
    run, not_run, unmarked, commands = blocks_of(doc, tmp_path)
    assert (run.where, run.heading, run.marker) == ("docs/page.md:6", "Signing in", "example")
    assert run.setup == ("signed-in", ("dataops.nexla.io",))
    assert run.steps() == [("nexla token status", ["line one"]), ("nexla env list", [])]
    assert (not_run.marker, not_run.marker_text) == ("not run", "another program's output")
    assert unmarked.is_console and unmarked.marker is None  # a `$ nexla` line, untagged
    assert not commands.is_console  # commands without output, not a transcript
