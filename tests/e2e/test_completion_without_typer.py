"""The e2e tier of tests/app/test_completion_parity.py, whose docstring says what is promised:
what the installed `nexla` loads to answer a TAB on a command, an option, `nexla help` or
`token exec`'s COMMAND (docs/speed.md): not Typer, and no third-party module at all."""

import pytest

from tests.support.startup import (
    platform_environment,
    run_with_importtime,
    seed_store,
    third_party,
)
from tests.support.tab_presses import PROTOCOLS, protocol_variables

# In tests/e2e: what a fresh interpreter imports can only be seen from outside the process.

LINES = {
    "commands": ("nexla env u", "use"),
    "options": ("nexla token print --m", "--min-ttl"),
    "help": ("nexla help token r", "refresh"),
    "token exec": ("nexla token exec -- pyth", " 4"),  # `:command 4`, `shift 4 words`
}


@pytest.fixture
def platform_env(tmp_path):
    """A store found the way users have it: no NEXLA_CONFIG_DIR, platformdirs and XDG."""
    env = platform_environment(tmp_path)
    seed_store(tmp_path / "xdg" / "nexla", {"dataops.nexla.io": None}, "dataops.nexla.io")
    return env


# what a fresh interpreter imports
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("kind", sorted(LINES))
def test_tab_on_commands_and_options_loads_no_third_party_module(
    kind, protocol, platform_env, tmp_path
):
    line, expected = LINES[kind]
    env = dict(platform_env, **protocol_variables(protocol, line))

    result, modules, rest = run_with_importtime([], env, tmp_path)

    assert (result.returncode, rest) == (0, "")
    if protocol != "fish is-args" and (kind, protocol) != ("token exec", "powershell"):
        assert expected in result.stdout
    assert "nexla_cli.fast.fastcomplete" in modules
    assert third_party(modules) == {"nexla_cli"}, sorted(third_party(modules))
