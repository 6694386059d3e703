"""The e2e tier of tests/app/test_orgs.py, whose docstring says what is promised: a sign-in
of a second org at a real terminal, renewal crowds of real processes over two orgs, and the
installed `token print --org` on its fast path."""

from __future__ import annotations

import subprocess
import time

from tests.support.orgs import (
    ACME,
    ADA,
    ADA_IN_GLOBEX,
    GLOBEX,
    keys_for_both,
    sign_in_to_both,
    two_orgs,
)
from tests.support.outcomes import describe
from tests.support.processes import nexla_executable, run_together
from tests.support.startup import split_importtime
from tests.support.stores import read_store, write_store_data
from tests.support.terminals import Terminal

CROWD = 12


def _make_every_identity_due(nx, left: int = 60) -> None:
    """Every identity's session inside its refresh margin, still valid."""
    data = read_store(nx.config_dir)
    env = data["environments"][nx.server.host]
    now = int(time.time())
    for record in [env, *env.get("other_identities", [])]:
        record["session"]["obtained_at"] = now + left - 3600
        record["session"]["expires_at"] = now + left
    write_store_data(nx.config_dir, data)


# a real terminal
def test_signing_in_to_a_second_org_at_a_terminal_names_the_org_added(nx):
    two_orgs(nx.server)
    acme = nx.server.sign_in(ADA, ACME)
    nx.ok("env", "configure", nx.server.host, "--with-token", input=acme + "\n")
    globex = nx.server.sign_in(ADA, GLOBEX)
    term = Terminal(nx, "env", "login", "--no-browser")
    term.expect("Enter ACCESS TOKEN:")
    term.type(globex)
    term.expect(f"Added {ADA_IN_GLOBEX} to {nx.server.host}")
    assert term.finish() == 0
    assert globex not in term.output
    assert nx.server.is_valid(acme)
    assert nx.ok("token", "print", "--org", "acme").stdout == acme + "\n"


# a crowd of processes
def test_a_crowd_over_two_orgs_makes_one_refresh_per_org(nx):
    sign_in_to_both(nx)
    _make_every_identity_due(nx)
    nx.server.clear_log()
    nx.server.set_delay("POST", "/token/refresh", 1.0)
    commands = [("token", "print", "--org", "acme"), ("token", "print")] * (CROWD // 2)
    results = run_together(nx, commands)

    assert [r.returncode for r in results] == [0] * CROWD, describe(results)
    assert nx.server.count("POST", "/token/refresh") == 2  # one per org
    assert nx.server.count() == 2  # and nothing else was sent
    acme_printed = {r.stdout for r in results[0::2]}
    globex_printed = {r.stdout for r in results[1::2]}
    assert len(acme_printed) == 1 and len(globex_printed) == 1
    acme_token, globex_token = acme_printed.pop().strip(), globex_printed.pop().strip()
    assert nx.server.token_info(acme_token).org["id"] == ACME["id"]
    assert nx.server.token_info(globex_token).org["id"] == GLOBEX["id"]
    assert all(r.stderr == "" for r in results), describe(results)


# a crowd of processes
def test_two_orgs_minted_from_their_keys_by_a_crowd_once_each(nx):
    keys_for_both(nx)
    _make_every_identity_due(nx, left=-10)  # expired: minted anew from each org's key
    nx.server.clear_log()
    nx.server.set_delay("POST", "/token", 1.0)
    commands = [("token", "print", "--org", "8"), ("token", "print", "--org", "7")] * 3
    results = run_together(nx, commands)

    assert [r.returncode for r in results] == [0] * len(commands), describe(results)
    assert nx.server.count("POST", "/token") == 2  # one mint per org, each with its key
    assert nx.server.count() == 2
    assert len({r.stdout for r in results[0::2]}) == 1
    assert len({r.stdout for r in results[1::2]}) == 1


# what a fresh interpreter imports
def test_the_installed_token_print_org_stays_on_the_fast_path(nx):
    acme, _ = sign_in_to_both(nx)
    result = subprocess.run(
        [nexla_executable(), "token", "print", "--org", "acme"],
        env=nx.env_with(PYTHONPROFILEIMPORTTIME="1"),
        cwd=nx.tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    modules, stderr = split_importtime(result.stderr)
    assert (result.returncode, result.stdout, stderr) == (0, acme + "\n", "")
    assert not {"typer", "requests", "rich"} & set(modules)
