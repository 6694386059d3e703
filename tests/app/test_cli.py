"""The root command: help for people who ask (docs/signing-in.md, "Help"), usage errors,
and --debug wherever it is typed."""

import re

import pytest

from nexla_cli.cli.root import app


def _command_paths():
    """Every command path under `nexla`, groups included: ("env",), ("env", "configure"), …"""
    import typer.main

    root = typer.main.get_command(app)
    paths = []

    def walk(group, prefix):
        for name in group.list_commands(None):
            command = group.get_command(None, name)
            paths.append((*prefix, name))
            if hasattr(command, "list_commands"):
                walk(command, (*prefix, name))

    walk(root, ())
    return paths


COMMANDS = [path for path in _command_paths()]
LEAF_COMMANDS = [path for path in COMMANDS if path not in (("env",), ("token",))]


@pytest.mark.parametrize("args", [(), ("env",), ("token",)])
def test_a_group_alone_shows_its_help_and_succeeds(nx, args):
    result = nx.ok(*args)
    assert result.stdout.startswith("Usage: nexla")
    assert result.stdout == nx.run(*args, "--help").stdout
    assert result.stderr == ""


def test_nexla_alone_says_where_to_start(nx):
    result = nx.ok()
    assert "Start with `nexla env configure`" in " ".join(result.stdout.split())


@pytest.mark.parametrize("path", [(), ("env",), ("env", "configure"), ("token", "print"), ("api",)])
def test_help_command_is_the_same_as_the_help_option(nx, path):
    asked = nx.ok("help", *path)
    assert asked.stdout == nx.run(*path, "--help").stdout
    assert asked.stdout.startswith("Usage: nexla " + " ".join(path))


def test_help_for_an_unknown_command_is_a_usage_error(nx):
    result = nx.fails(2, "help", "env", "bogus")
    assert result.stderr.splitlines() == [
        "error: No such command: nexla env bogus",
        "hint: see `nexla env --help`",
    ]
    assert result.stdout == ""


@pytest.mark.parametrize("path", LEAF_COMMANDS, ids=" ".join)
def test_every_command_help_explains_and_ends_with_examples(nx, path):
    result = nx.ok(*path, "--help")
    text = result.stdout
    usage = text.splitlines()[0]
    assert "{" not in usage and "}" not in usage, usage
    description = text.split("\n\n", 2)[1]
    assert len(description.split()) >= 6, f"too short to say what `{path}` does: {description!r}"
    # The Examples block comes after the description, and every example runs nexla.
    assert "\n  Examples:\n" in text, text
    examples = text.split("\n  Examples:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    commands = [line.strip() for line in examples if not line.startswith("      ")]
    assert commands, text
    assert all(re.search(r"\bnexla\b", line) for line in commands), commands


@pytest.mark.parametrize("path", [(), ("env",), ("token",)], ids=lambda p: " ".join(p) or "nexla")
def test_command_lists_show_whole_summaries(nx, path):
    text = nx.run(*path, "--help").stdout
    listing = text.split("\nCommands:\n", 1)[1]
    assert listing.strip(), text
    assert "..." not in listing and "…" not in listing, listing


def test_an_unknown_option_is_a_one_line_usage_error(nx):
    result = nx.fails(2, "env", "list", "--bogus")
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: No such option: --bogus")
    assert lines[1:] == ["hint: see `nexla env list --help`"]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--debug", "api", "/users/current"),
        ("api", "--debug", "/users/current"),
        ("api", "/users/current", "--debug"),
    ],
    ids=["before", "after-command", "at-the-end"],
)
def test_debug_is_accepted_anywhere_on_the_line(nx, args):
    token = nx.sign_in()
    result = nx.ok(*args)
    assert "debug: > GET https://" in result.stderr
    assert token not in result.stderr + result.stdout


def test_nexla_debug_variable_turns_on_debugging(nx):
    token = nx.sign_in()
    result = nx.ok("api", "/users/current", env=nx.env_with(NEXLA_DEBUG="1"))
    assert "debug: > GET https://" in result.stderr
    assert token not in result.stderr
    quiet = nx.run("api", "/users/current")
    assert "debug:" not in quiet.stderr
