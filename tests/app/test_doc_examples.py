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

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.doc_blocks import console_blocks, difference, matches
from tests.support.fake_nexla import (
    ADMIN_USER,
    API_PREFIX,
    DEFAULT,
    DEFAULT_ORG,
    DEFAULT_USER,
)
from tests.support.stores import write_store_data
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
SERVICE_KEY = "svc-key-of-the-examples"


@dataclass
class World:
    """What a setup prepares: the store, the server's tokens and keys, the hosts, and the
    secrets typed at hidden prompts."""

    nx: Any
    hosts: ExampleHosts
    secrets: dict[str, str] = field(default_factory=dict)
    environments: dict[str, dict] = field(default_factory=dict)
    current: str | None = None

    def add(self, name: str, session: dict | None = None, **record: Any) -> None:
        self.environments[name] = {"api_url": f"https://{name}{API_PREFIX}", **record}
        if session is not None:
            self.environments[name]["session"] = session
        self.current = self.current or name

    def session(
        self, token: str | None = None, *, source: str = "pasted", user=DEFAULT, org=DEFAULT
    ) -> dict:
        """A session obtained now that lasts an hour (a token of the server's if none is
        given), as file format 2 stores it (docs/file-format.md)."""
        now = int(time.time())
        return {
            "access_token": token or self.nx.server.issue_token(),
            "token_type": "Bearer",
            "obtained_at": now,
            "expires_at": now + 3600,
            "expires_estimated": source == "pasted",
            "source": source,
            "user": dict(DEFAULT_USER) if user is DEFAULT else user,
            "org": dict(DEFAULT_ORG) if org is DEFAULT else org,
        }

    def store(self) -> None:
        # Format 2, whatever the current one: every later version reads it (migrating it),
        # so the setups keep working when the format moves on.
        if self.environments:
            data = {"version": 2, "current": self.current, "environments": self.environments}
            write_store_data(self.nx.config_dir, data)


# ---- the setups an example can name -------------------------------------------------------


def first_sign_in(world: World) -> None:
    """Nothing stored yet; a token of the server to paste at the prompt."""
    world.secrets[TOKEN_PROMPT] = world.nx.server.issue_token()


def signed_in(world: World, *names: str) -> None:
    """Signed in to each NAME with a pasted token (the first is current); another token of
    the server to paste at a prompt."""
    for name in names:
        world.add(name, world.session())
    first_sign_in(world)


def signed_in_with_a_jwt(world: World, name: str) -> None:
    """Signed in to NAME with a pasted JWT, whose `exp` gives the session's expiry."""
    session = world.session(world.nx.server.issue_token(jwt=True))
    session.update(expires_estimated=False)
    world.add(name, session)


def impersonated(world: World) -> None:
    """Nothing stored yet; the token to paste is one an admin uses as Ada."""
    world.secrets[TOKEN_PROMPT] = world.nx.server.issue_token(impersonator=ADMIN_USER)


def from_key(world: World, name: str) -> None:
    """Signed in to NAME with a session minted from a service key (not saved); the server
    takes the key `SERVICE_KEY`, which is also typed at a key prompt."""
    world.nx.server.add_service_key(SERVICE_KEY)
    world.secrets[KEY_PROMPT] = SERVICE_KEY
    world.add(name, world.session(source="service_key"))


def key_in_keyring(world: World, name: str) -> None:
    """Signed in to NAME from a service key that is saved in the OS keyring."""
    from_key(world, name)
    world.environments[name]["saved_key"] = {
        "in": "keyring",
        "service": "nexla service key",
        "username": f"{name} in {world.nx.config_dir}",
    }


def three_to_check(world: World) -> None:
    """beta.nexla.com: a pasted token the server no longer takes (user known, no org);
    dataops.nexla.io: valid, from a service key; staging.example.com, current: added with
    --no-verify (no user known), its host refusing connections."""
    world.add("beta.nexla.com", world.session("tok-revoked-on-the-server", org=None))
    world.add("dataops.nexla.io", world.session(source="service_key"))
    world.add("staging.example.com", world.session("tok-never-checked", user={}, org=None))
    world.current = "staging.example.com"
    world.hosts.refuse("staging.example.com")


def two_orgs(world: World) -> None:
    """Ada belongs to Acme (org 7, her default) and Globex (org 8); signed in to
    dataops.nexla.io in Acme with a pasted token. The key of Globex is typed at a key
    prompt, and is in ~/globex.key."""
    acme, globex = {"id": 7, "name": "Acme"}, {"id": 8, "name": "Globex"}
    server = world.nx.server
    server.add_memberships(DEFAULT_USER, [acme, globex], acme)
    server.add_service_key(SERVICE_KEY, org=globex)
    world.secrets[KEY_PROMPT] = SERVICE_KEY
    world.add("dataops.nexla.io", world.session(server.sign_in(org=acme), org=acme))
    world.nx.env.home.mkdir(exist_ok=True)
    (world.nx.env.home / "globex.key").write_text(SERVICE_KEY + "\n")


SETUPS: dict[str, Callable[..., None]] = {
    "two-orgs": two_orgs,
    "first-sign-in": first_sign_in,
    "signed-in": signed_in,
    "signed-in-with-a-jwt": signed_in_with_a_jwt,
    "impersonated": impersonated,
    "from-key": from_key,
    "key-in-keyring": key_in_keyring,
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
    if name not in SETUPS:
        pytest.fail(f"{block.where}: no setup {name!r} (there are: {', '.join(SETUPS)})")
    SETUPS[name](world, *args)
    world.store()
    nx.env.home.mkdir(exist_ok=True)
    shell = Shell(nx.env, nx.env.home, world.secrets)
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
