"""Every console example of README.md and docs/*.md runs, and shows what `nexla` prints
(docs/architecture.md, "Examples in the docs").

A block marked `<!-- example: SETUP ARG… -->` is run from the setup of that name (SETUPS,
below) against the fake Nexla API, in this process: its `$ ` lines one after another at a
pseudo-terminal, its host names pointed at the fake server, a prompt's hidden answer typed
from the setup. What the terminal showed is compared with the block, both normalised
(times, durations' digits, ports, tokens; the test's directories shown as /home/ada/…); a
difference fails with a diff of the two. A console block needs that marker or
`<!-- not run: WHY -->`.

Why a runner of our own: pytest-examples runs Python blocks only (its output check is the
`#>` comments of print calls), and Sybil, which could find the blocks and their comments,
would leave the rest (a terminal, prompts, the shell's few words, normalising, the diff)
to an evaluator written here anyway, while collecting the Markdown files themselves from
outside tests/ (where the tier of a test is its directory). Finding fenced blocks and the
comment above them is a few lines (tests/support/doc_blocks.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from tests.support.doc_blocks import console_blocks, difference, matches
from tests.support.fake_nexla import ADMIN_USER, API_PREFIX
from tests.support.signing_in import session_record
from tests.support.stores import write_store
from tests.support.transcripts import (
    ExampleHosts,
    NotRunnable,
    Shell,
    run_transcript,
    sandbox_paths,
)

BLOCKS = console_blocks()
EXAMPLES = [block for block in BLOCKS if block.marker == "example"]
TOKEN_PROMPT = "Enter ACCESS TOKEN:"
KEY_PROMPT = "Enter SERVICE KEY:"


@dataclass
class World:
    """What a setup prepares: the store, the server's tokens and keys, the hosts, and the
    secrets typed at hidden prompts."""

    nx: object
    hosts: ExampleHosts
    secrets: dict[str, str] = field(default_factory=dict)
    environments: dict[str, dict] = field(default_factory=dict)
    current: str | None = None

    def add(self, name: str, session: dict | None = None, **record) -> None:
        self.environments[name] = {"api_url": f"https://{name}{API_PREFIX}", **record}
        if session is not None:
            self.environments[name]["session"] = session
        self.current = self.current or name

    def store(self) -> None:
        if self.environments:
            write_store(self.nx.config_dir, self.environments, self.current)


# ---- the setups an example can name -------------------------------------------------------


def first_sign_in(world: World) -> None:
    """Nothing stored yet; a token of the server to paste at the prompt."""
    world.secrets[TOKEN_PROMPT] = world.nx.server.issue_token()


def signed_in(world: World, *names: str) -> None:
    """Signed in to each NAME with a pasted token (the first is current); another token of
    the server to paste at a prompt."""
    for name in names:
        world.add(name, session_record(world.nx.server.issue_token()))
    first_sign_in(world)


def signed_in_with_a_jwt(world: World, name: str) -> None:
    """Signed in to NAME with a pasted JWT, whose `exp` gives the session's expiry."""
    token = world.nx.server.issue_token(jwt=True)
    session = session_record(token)
    session.update(expires_estimated=False)
    world.add(name, session)


def impersonated(world: World) -> None:
    """Nothing stored yet; the token to paste is one an admin uses as Ada."""
    world.secrets[TOKEN_PROMPT] = world.nx.server.issue_token(impersonator=ADMIN_USER)


def key_in_keyring(world: World, name: str) -> None:
    """Signed in to NAME from a service key that is saved in the OS keyring."""
    world.add(
        name,
        session_record(world.nx.server.issue_token(), source="service_key"),
        saved_key={
            "in": "keyring",
            "service": "nexla service key",
            "username": f"{name} in {world.nx.config_dir}",
        },
    )


def from_key(world: World, name: str) -> None:
    """Signed in to NAME with a session minted from a service key (not saved)."""
    world.add(name, session_record(world.nx.server.issue_token(), source="service_key"))


def three_to_check(world: World) -> None:
    """beta.nexla.com: a pasted token the server no longer takes (user known, no org);
    dataops.nexla.io: valid, from a service key; staging.example.com, current: added with
    --no-verify (no user known), its host refusing connections."""
    rejected = session_record("tok-revoked-on-the-server")
    rejected["org"] = None
    world.add("beta.nexla.com", rejected)
    world.add(
        "dataops.nexla.io", session_record(world.nx.server.issue_token(), source="service_key")
    )
    unverified = session_record("tok-never-checked")
    unverified.update(user={}, org=None)
    world.add("staging.example.com", unverified)
    world.current = "staging.example.com"
    world.hosts.refuse("staging.example.com")


SETUPS: dict[str, Callable[..., None]] = {
    "first-sign-in": first_sign_in,
    "signed-in": signed_in,
    "signed-in-with-a-jwt": signed_in_with_a_jwt,
    "impersonated": impersonated,
    "key-in-keyring": key_in_keyring,
    "from-key": from_key,
    "three-to-check": three_to_check,
}


# ---- the tests ---------------------------------------------------------------------------------


def test_every_console_block_says_whether_it_runs():
    unmarked = [f"{block.where} ({block.heading})" for block in BLOCKS if block.marker is None]
    assert not unmarked, (
        "console blocks need `<!-- example: SETUP -->` or `<!-- not run: why -->` on the "
        "line above (docs/architecture.md, 'Examples in the docs'): " + ", ".join(unmarked)
    )
    assert all(block.marker_text for block in BLOCKS), "a marker names its setup or its reason"
    unknown = {block.where: block.setup[0] for block in EXAMPLES if block.setup[0] not in SETUPS}
    assert not unknown, f"setups that do not exist (known: {', '.join(SETUPS)}): {unknown}"


def test_the_examples_are_found():
    assert len(EXAMPLES) >= 5
    assert {block.path for block in EXAMPLES} >= {"README.md", "docs/scripting.md"}


@pytest.mark.parametrize("block", EXAMPLES, ids=[block.where for block in EXAMPLES])
def test_the_example_shows_what_nexla_prints(nx, monkeypatch, block):
    world = World(nx, ExampleHosts(monkeypatch, nx.server.port))
    name, args = block.setup
    SETUPS[name](world, *args)
    world.store()
    shell = Shell(nx.env, nx.tmp_path, world.secrets)
    try:
        shown = run_transcript(shell, block.steps())
    except NotRunnable as exc:
        pytest.fail(f"{block.where}: {exc}", pytrace=False)
    shown = sandbox_paths(
        shown, {str(nx.config_dir): "/home/ada/.config/nexla", str(nx.env.home): "/home/ada"}
    )
    if not matches(list(block.lines), shown):
        pytest.fail(
            f"{block.where} ({block.heading}) does not show what nexla prints; fix the doc "
            f"(or nexla):\n{difference(block.where, list(block.lines), shown)}",
            pytrace=False,
        )
