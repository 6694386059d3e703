"""The root command: help without arguments, usage errors."""

import pytest


@pytest.mark.parametrize("args", [(), ("env",), ("token",)])
def test_a_group_alone_shows_its_help_on_stderr(run_nexla, args):
    result = run_nexla(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Usage: nexla")
    assert "error:" not in result.stderr


def test_an_unknown_option_is_a_one_line_usage_error(run_nexla):
    result = run_nexla("env", "list", "--bogus")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: No such option: --bogus")
    assert lines[1:] == ["hint: see `nexla env list --help`"]
    assert "Traceback" not in result.stderr
