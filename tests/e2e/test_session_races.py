"""Concurrent commands end as if run one after another (docs/sessions.md, "Commands that
overlap").

Every read-modify-write re-reads the store under the lock and re-checks what it relied on:
a sign-in or `from-key` that finishes after `env remove` of its environment exits 3 and does
not bring it back, and `env login` never undoes an overlapping `configure --api-url`. Real
processes race against a slow fake server; the rounds use fixed seeds (tests/support/seeds.py:
NEXLA_TEST_SEED runs them with another).

In the directed tests the second command runs in this process (tests/support/inprocess.py) while
the first, a real process, waits for its answer: the server's delay then has to cover the
second command's work, not also a second process starting.
"""

from __future__ import annotations

import random
import time

import pytest

from tests.support.inprocess import run_in_process
from tests.support.outcomes import describe
from tests.support.processes import finish, start
from tests.support.seeds import how_to_repeat, seeds_or
from tests.support.signing_in import seed
from tests.support.stores import read_store

# In tests/e2e: Real processes race one another.

# Two seeds: six random races, each pair of commands twice, at other moments than the
# directed tests' (which put the second command inside the first one's request every time).
SEEDS = seeds_or([1, 2])
# How long the first command's answer is held while the second runs here. `env remove`
# ends the session on the server as well: on two busy cores that has taken up to two
# seconds in this process (its first request imports the HTTP stack); `configure
# --no-verify` sends nothing and takes a fraction of one. Where the order does not
# matter (the remove waits for the lock), the hold only has to outlast starting it.
HELD_FOR_A_REQUEST = 2.0
HELD_FOR_A_LOCAL_CHANGE = 1.0
HELD_FOR_THE_LOCK = 0.5


def _environments(nx) -> dict:
    return read_store(nx.config_dir)["environments"]


def run_here(nx, *args: str, env: dict | None = None, input: str | None = None):
    """`nexla ARGS` in this process, beside the test's real ones."""
    return run_in_process(list(args), env=env or nx.env, input=input, cwd=nx.tmp_path)


def test_login_finishing_after_remove_exits_3_and_does_not_bring_it_back(nx):
    seed(nx)
    nx.server.set_delay("GET", "/users/current", HELD_FOR_A_REQUEST)
    login = start(nx, "env", "login", "--with-token", input=nx.server.issue_token() + "\n")
    assert nx.server.wait_for_count("GET", "/users/current", timeout=30)
    removed = run_here(nx, "env", "remove", nx.server.host)
    assert removed.returncode == 0, describe(removed)
    result = finish(login)
    assert result.returncode == 3, describe(result)
    assert "removed" in result.stderr
    assert nx.server.host not in _environments(nx)


def test_from_key_for_the_current_environment_and_remove_serialise(nx):
    nx.server.add_service_key("svc-race")
    seed(nx)
    nx.server.set_delay("POST", "/token", HELD_FOR_THE_LOCK)
    minting = start(nx, "token", "from-key", env=nx.env_with(NEXLA_SERVICE_KEY="svc-race"))
    assert nx.server.wait_for_count("POST", "/token", timeout=30)
    removed = run_here(nx, "env", "remove", nx.server.host)  # waits for the lock
    minted = finish(minting)
    # from-key held the lock for its request: it stored first, then remove removed.
    assert minted.returncode == 0, describe(minted)
    assert removed.returncode == 0, describe(removed)
    data = read_store(nx.config_dir)
    assert nx.server.host not in data["environments"]
    assert data["current"] is None


def test_login_does_not_undo_an_overlapping_configure_api_url(nx):
    seed(nx)
    # The same server under another name, so a login that reads the new URL still works.
    new_url = f"https://localhost:{nx.server.port}/nexla-api"
    nx.server.set_delay("GET", "/users/current", HELD_FOR_A_LOCAL_CHANGE)
    login_token = nx.server.issue_token()
    login = start(nx, "env", "login", "--with-token", input=login_token + "\n")
    assert nx.server.wait_for_count("GET", "/users/current", timeout=30)
    configured = run_here(
        nx,
        "env",
        "configure",
        nx.server.host,
        "--api-url",
        new_url,
        "--with-token",
        "--no-verify",
        input=nx.server.issue_token() + "\n",
    )
    assert configured.returncode == 0, describe(configured)
    result = finish(login)
    assert result.returncode == 0, describe(result)
    env = _environments(nx)[nx.server.host]
    assert env["api_url"] == new_url
    assert env["session"]["access_token"] == login_token  # login finished last


def _race(nx, rng, first: tuple, second: tuple, *, delay_path: tuple, inputs=(None, None)):
    """Start `first`, then `second` after a random pause, with the server slowed at random.

    Both start the same way, so the pause decides which reaches the store first: up to half
    a second, about as long as the server's delay, lets either come first or overlap."""
    nx.server.set_delay(*delay_path, rng.uniform(0.1, 0.6))
    a = start(nx, *first[0], env=first[1], input=inputs[0])
    time.sleep(rng.uniform(0, 0.5))
    b = start(nx, *second[0], env=second[1], input=inputs[1])
    results = finish(a), finish(b)
    nx.server.clear_faults()
    return results


@pytest.mark.parametrize("seed_value", SEEDS)
def test_random_rounds_end_as_some_serial_order(nx, seed_value):
    rng = random.Random(seed_value)
    repeat = how_to_repeat(seed_value)
    print(repeat)
    host = nx.server.host
    nx.server.add_service_key("svc-round")

    # login vs remove: either login then remove (0, 0) or remove then login (0, 3);
    # in both orders the environment is gone at the end.
    seed(nx)
    login, removed = _race(
        nx,
        rng,
        (("env", "login", "--with-token"), nx.env),
        (("env", "remove", host), nx.env),
        delay_path=("GET", "/users/current"),
        inputs=(nx.server.issue_token() + "\n", None),
    )
    assert removed.returncode == 0, f"{repeat}\n{describe(removed)}"
    assert login.returncode in (0, 3), f"{repeat}\n{describe(login)}"
    assert host not in _environments(nx), f"{repeat}\n{describe(login)}"

    # from-key (the current environment) vs remove: the same two orders.
    seed(nx)
    minted, removed = _race(
        nx,
        rng,
        (("token", "from-key"), nx.env_with(NEXLA_SERVICE_KEY="svc-round")),
        (("env", "remove", host), nx.env),
        delay_path=("POST", "/token"),
    )
    assert removed.returncode == 0, f"{repeat}\n{describe(removed)}"
    assert minted.returncode in (0, 3), f"{repeat}\n{describe(minted)}"
    assert host not in _environments(nx), f"{repeat}\n{describe(minted)}"

    # login vs configure --api-url: both succeed in either order, and the URL stays.
    seed(nx)
    new_url = f"https://localhost:{nx.server.port}/nexla-api"
    tokens = nx.server.issue_token(), nx.server.issue_token()
    login, configured = _race(
        nx,
        rng,
        (("env", "login", "--with-token"), nx.env),
        (("env", "configure", host, "--api-url", new_url, "--with-token", "--no-verify"), nx.env),
        delay_path=("GET", "/users/current"),
        inputs=(tokens[0] + "\n", tokens[1] + "\n"),
    )
    assert login.returncode == 0, f"{repeat}\n{describe(login)}"
    assert configured.returncode == 0, f"{repeat}\n{describe(configured)}"
    env = _environments(nx)[host]
    assert env["api_url"] == new_url, repeat
    assert env["session"]["access_token"] in tokens, repeat
