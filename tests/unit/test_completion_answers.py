"""What fastcomplete.answer_for makes of the words typed, read over the completion table
(README.md, "Shell completion"; docs/speed.md): the cases that say how a line is read.
Held to Typer's own answers, protocol by protocol, in tests/app/test_completion_parity.py."""

import pytest

from nexla_cli.fast.fastcomplete import CommandLine, answer_for

NO_FILES = True


def values(answer):
    """The candidates alone, or the CommandLine."""
    if isinstance(answer, CommandLine):
        return answer
    offered, no_files = answer
    return [value for value, _ in offered], no_files


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        # commands of a group, with no file fallback
        ("env u", (["use"], NO_FILES)),
        ("t", (["token"], NO_FILES)),
        ("zzz", ([], NO_FILES)),
        ("env zzz", ([], NO_FILES)),
        # options: every name of an option not given yet, repeatable ones again
        ("token print --m", (["--min-ttl"], NO_FILES)),
        (
            "token print -",
            (["--env", "-e", "--min-ttl", "--org", "--user", "-h", "--help"], NO_FILES),
        ),
        ("token print -e x -", (["--min-ttl", "--org", "--user", "-h", "--help"], NO_FILES)),
        ("token print --env=x --e", ([], NO_FILES)),
        ("api -f a=1 --fi", (["--field"], NO_FILES)),
        ("--debug -", (["--version", "--quiet", "-q", "-h", "--help"], NO_FILES)),
        # the root's options before a group's command
        ("--debug env u", (["use"], NO_FILES)),
        # `nexla help`: the commands of the group named so far
        ("help t", (["token"], NO_FILES)),
        ("help token r", (["refresh"], NO_FILES)),
        ("help env use ", ([], NO_FILES)),
        ("help bogus ", ([], NO_FILES)),
        # choices
        ("token export --format d", (["dotenv"], NO_FILES)),
        ("token export --format=j", (["json"], NO_FILES)),
        # values nexla has no completer for: the shell's own (files)
        ("api --input ", ([], False)),
        ("api ", ([], False)),
        ("token print --min-ttl ", ([], False)),
        # nothing left to complete
        ("token print ", ([], NO_FILES)),
        ("env use dataops.nexla.io ", ([], NO_FILES)),
        # token exec: where COMMAND begins (`nexla` is word 0)
        ("token exec -- pyth", CommandLine(4)),
        ("token exec -- python fo", CommandLine(4)),
        ("token exec --env x --min-ttl 5 -- py", CommandLine(8)),
        ("token exec --env=x py", CommandLine(4)),
        ("token exec ls -l ", CommandLine(3)),
        ("token exec -- ls -", CommandLine(4)),  # after --, a dash is COMMAND's
        (
            "token exec ls -",
            (["--env", "-e", "--min-ttl", "--org", "--user", "-h", "--help"], NO_FILES),
        ),  # as click
    ],
)
def test_how_a_line_is_read(words, expected, monkeypatch, tmp_path):
    monkeypatch.setenv("NEXLA_CONFIG_DIR", str(tmp_path))  # no store: no environment names
    typed = words.split(" ")
    assert values(answer_for(typed[:-1], typed[-1])) == expected


@pytest.mark.parametrize(
    "words",
    [
        "bogus e",  # an unknown command
        "token print -qe ",  # short options run together
        "env list --env ",  # an option this command does not have
        "token from-key --key-file ",  # a value only Typer completes (a path)
        "token print --json=1 --",  # a flag given a value
        "-- env",  # `--` before a command
    ],
)
def test_what_the_table_cannot_follow_is_left_to_typer(words):
    typed = words.split(" ")
    assert answer_for(typed[:-1], typed[-1]) is None
