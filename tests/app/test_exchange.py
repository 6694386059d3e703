"""One exchange (nexla_cli/auth/exchange.py), tested once, directly: a real store in the test's
config directory, real requests to the fake Nexla server, and a fault at each step.

The order it owns (docs/storage.md, docs/keyring.md): lock -> reserve -> hold signals ->
request -> write -> delete the keyring items the file no longer names -> release the
lock -> act on a held signal. The commands that go through it (renewal, from-key, logout,
remove, a pasted sign-in) are tested through the app elsewhere; here, what the exchange
itself guarantees.

The keyring is an in-memory backend installed for the test (keyring.set_keyring), which
notes, at each write and delete, what the credentials file said and whether the store's
lock was held: the two facts the ordering rule is about.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import pytest

from nexla_cli.auth.exchange import answer_not_stored, exchange
from nexla_cli.core.errors import ConfigError, Interrupted, StoreBusy
from nexla_cli.core.model import session_from_token_response
from nexla_cli.core.runtime import Streams
from nexla_cli.deps import Deps
from nexla_cli.storage import keys
from nexla_cli.storage.store import Environment, StoreWriteError
from tests.support.fake_nexla import Fault
from tests.support.inprocess import FAST
from tests.support.stores import LOCK_NAME, STORE_NAME

# flock tells the tests whether the store's lock is held (the memory_keyring fixture):
# POSIX only, so a Windows run skips this module, saying why.
fcntl = pytest.importorskip("fcntl", reason="flock (POSIX only) says whether the lock is held")

KEY = "svc-exchange-" + "k" * 20
OTHER_KEY = "svc-exchange-other-" + "o" * 14


def _lock_is_held(lock_file: Path) -> bool:
    """Whether some open file holds the store's lock (flock: a new descriptor cannot)."""
    fd = os.open(lock_file, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _named_in_file(config_dir: Path) -> set[str]:
    """The keyring accounts the credentials file names, as it is on disk now."""
    try:
        data = json.loads((config_dir / STORE_NAME).read_text())
    except FileNotFoundError:
        return set()
    return {
        env["saved_key"]["username"]
        for env in data["environments"].values()
        if env.get("saved_key", {}).get("in") == "keyring"
    }


@pytest.fixture
def memory_keyring(nx):
    """An OS keyring for this process only; `events` notes (what, account, named in the
    file at that moment, lock held)."""
    import keyring
    from keyring.backend import KeyringBackend
    from keyring.errors import PasswordDeleteError

    config_dir = nx.config_dir

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.items: dict[tuple[str, str], str] = {}
            self.events: list[tuple[str, str, bool, bool]] = []
            self.refuse_deletes = False

        def _note(self, what: str, username: str) -> None:
            lock = config_dir / LOCK_NAME
            self.events.append(
                (what, username, username in _named_in_file(config_dir), _lock_is_held(lock))
            )

        def get_password(self, service: str, username: str) -> str | None:
            return self.items.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self._note("set", username)
            self.items[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self._note("delete", username)
            if self.refuse_deletes:
                raise keyring.errors.KeyringLocked("locked for the test")
            if self.items.pop((service, username), None) is None:
                raise PasswordDeleteError("no such item")

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def deps(nx):
    """A run's Deps on the test's config dir and fake server; the keyring is whatever
    keyring.get_keyring() gives (the memory one, when a test asks for it)."""
    environ = {name: value for name, value in nx.env.items() if name != "PYTHON_KEYRING_BACKEND"}
    return Deps({**environ, "NEXLA_LOCK_TIMEOUT": "0.5"}, Streams(None, None, None), timing=FAST)


def mint_into(deps: Deps, nx, ex, key: str = KEY) -> Environment:
    """The request of a `token from-key`: the session it mints becomes the environment's."""
    ex.reserve()
    ex.sending("mint")
    body = deps.client(nx.server.api_url).mint(key)
    env = ex.data.environments.setdefault(nx.server.host, Environment(nx.server.api_url))
    env.session = session_from_token_response(body, "service_key", deps.now())
    ex.data.current = nx.server.host
    return env


def saved(deps: Deps, nx, key: str) -> keys.KeyringItem:
    """`key` saved for the fake server's environment through one exchange; its item."""
    nx.server.add_service_key(key)
    plan = keys.plan_save(deps.keyring, nx.server.host, deps.store.path)
    with exchange(deps, done="once the new session was stored") as ex:
        ex.save_key(plan, mint_into(deps, nx, ex, key), key)
    item = keys.keyring_item(deps.store.load().environments[nx.server.host])
    assert item is not None
    return item


def make_the_write_fail(config_dir: Path) -> None:
    """A real fault for the write at the end: the file's name is taken by a directory that
    is not empty, which no rename can replace."""
    path = config_dir / STORE_NAME
    path.unlink()
    path.mkdir()
    (path / "in-the-way").touch()


# The ordering rule ---------------------------------------------------------------------------


def test_a_key_is_in_the_keyring_before_the_file_names_it(deps, nx, memory_keyring):
    item = saved(deps, nx, KEY)

    assert memory_keyring.events == [("set", item.username, False, True)]
    assert _named_in_file(nx.config_dir) == {item.username}


def test_an_item_is_deleted_after_the_file_stops_naming_it_with_the_lock_held(
    deps, nx, memory_keyring
):
    item = saved(deps, nx, KEY)

    with exchange(deps, done="once the session was forgotten") as ex:
        assert ex.forget_key(ex.data.environments[nx.server.host], nx.server.host)

    assert memory_keyring.events[-1] == ("delete", item.username, False, True)
    assert (item.service, item.username) not in memory_keyring.items


def test_a_key_change_deletes_the_old_item_only_once_the_file_names_the_new(
    deps, nx, memory_keyring
):
    first = saved(deps, nx, KEY)
    second = saved(deps, nx, OTHER_KEY)

    assert second != first
    assert memory_keyring.events[1:] == [
        ("set", second.username, False, True),
        ("delete", first.username, False, True),
    ]


def test_an_item_the_file_names_again_is_not_deleted(deps, nx, memory_keyring):
    """Forgotten and saved anew in one exchange: the file still names it, so it stays."""
    item = saved(deps, nx, KEY)
    plan = keys.plan_save(deps.keyring, nx.server.host, deps.store.path)

    with exchange(deps, done="once the session was stored") as ex:
        env = ex.data.environments[nx.server.host]
        ex.forget_key(env, nx.server.host)
        ex.save_key(plan, env, KEY)

    assert [event[0] for event in memory_keyring.events] == ["set"]
    assert memory_keyring.items[(item.service, item.username)] == KEY


# A fault at each step ----------------------------------------------------------------------


def test_a_lock_not_obtained_sends_nothing_and_changes_nothing(deps, nx, memory_keyring):
    saved(deps, nx, KEY)
    before = (nx.config_dir / STORE_NAME).read_bytes()
    fd = os.open(nx.config_dir / LOCK_NAME, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another process's command, holding it
    nx.server.clear_log()
    try:
        with pytest.raises(StoreBusy, match="could not lock"):
            with exchange(deps, done="once the new session was stored") as ex:
                mint_into(deps, nx, ex)
    finally:
        os.close(fd)
    assert nx.server.count() == 0
    assert (nx.config_dir / STORE_NAME).read_bytes() == before


def test_a_write_that_fails_before_any_request_is_the_operations_error(deps, nx, memory_keyring):
    item = saved(deps, nx, KEY)
    mapped = []

    def if_unwritten(exc, ex):
        mapped.append(set(ex.sent))
        return ConfigError(f"could not forget: {exc.message}")

    with pytest.raises(ConfigError, match="could not forget") as raised:
        with exchange(deps, done="…", if_unwritten=if_unwritten) as ex:
            ex.forget_key(ex.data.environments[nx.server.host], nx.server.host)
            make_the_write_fail(nx.config_dir)

    assert raised.value.exit_code == 3
    assert mapped == [set()]  # told that nothing was sent
    # The file was not rewritten, so it may still name the item: it stays.
    assert memory_keyring.items[(item.service, item.username)] == KEY


def test_a_write_that_fails_with_no_mapping_is_the_stores_error(deps, nx, memory_keyring):
    item = saved(deps, nx, KEY)
    with pytest.raises(StoreWriteError) as raised:
        with exchange(deps, done="…") as ex:
            ex.forget_key(ex.data.environments[nx.server.host], nx.server.host)
            make_the_write_fail(nx.config_dir)
    assert raised.value.exit_code == 3
    # The file was not rewritten, so it may still name the item: it stays.
    assert memory_keyring.items[(item.service, item.username)] == KEY


def test_a_write_that_fails_after_the_request_is_the_operations_error(deps, nx, memory_keyring):
    item = saved(deps, nx, KEY)
    nx.server.add_service_key(OTHER_KEY)

    with pytest.raises(ConfigError) as raised:
        with exchange(
            deps,
            done="once the new session was stored",
            if_unwritten=lambda exc, ex: answer_not_stored(nx.server.host, exc),
        ) as ex:
            env = mint_into(deps, nx, ex, OTHER_KEY)
            ex.forget_key(env, nx.server.host)
            make_the_write_fail(nx.config_dir)

    assert raised.value.message.startswith(f"the new session for {nx.server.host} could not")
    assert "the stored one was left as it was" in raised.value.message
    assert nx.server.count("POST", "/token") == 2
    assert memory_keyring.items[(item.service, item.username)] == KEY
    assert [event[0] for event in memory_keyring.events] == ["set"]


def test_an_error_the_operation_reports_itself_is_not_replaced(deps, nx):
    """if_unwritten answering None: the write failed after the request, and the operation
    reports its own outcome (renewal: a remembered failure that could not be written)."""
    nx.server.add_service_key(KEY)
    with exchange(deps, done="…") as ex:
        mint_into(deps, nx, ex)
    told = []
    with exchange(deps, done="…", if_unwritten=lambda exc, ex: told.append(exc)) as ex:
        ex.reserve()
        ex.sending("logout")
        deps.client(nx.server.api_url).logout(
            ex.data.environments[nx.server.host].session.access_token
        )
        ex.data.current = None
        make_the_write_fail(nx.config_dir)
    assert [type(exc) for exc in told] == [StoreWriteError]


def test_a_keyring_that_cannot_delete_warns_and_the_change_stands(deps, nx, memory_keyring):
    item = saved(deps, nx, KEY)
    memory_keyring.refuse_deletes = True

    with exchange(deps, done="once the session was forgotten") as ex:
        ex.forget_key(ex.data.environments[nx.server.host], nx.server.host)

    assert _named_in_file(nx.config_dir) == set()
    (warning,) = deps.notices.said
    assert warning.startswith(f"could not delete the service key for {nx.server.host}")
    assert "it is locked" in warning and item.describe() in warning


def test_an_item_another_config_directory_made_is_never_deleted(deps, nx, memory_keyring):
    """A copy of the config directory names the original's item (docs/keyring.md)."""
    original = keys.KeyringItem(keys.SERVICE_NAME, f"{nx.server.host} in /elsewhere/nexla")
    memory_keyring.items[(original.service, original.username)] = KEY
    with exchange(deps, done="…") as ex:
        env = ex.data.environments[nx.server.host] = Environment(nx.server.api_url)
        env.saved_key = keys.SavedKey(item=original)

    with exchange(deps, done="…") as ex:
        assert ex.forget_key(ex.data.environments[nx.server.host], nx.server.host)

    assert memory_keyring.items[(original.service, original.username)] == KEY
    assert [event[0] for event in memory_keyring.events] == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_during_the_request_is_acted_on_once_the_answer_is_written(deps, nx, signum):
    nx.server.add_service_key(KEY)
    # The answer waits until the signal has been sent: the signal lands during the request.
    signal_sent = threading.Event()
    nx.server.add_fault("POST", "/token", Fault.held(signal_sent))

    def signal_during_the_request() -> None:
        assert nx.server.wait_for_count("POST", "/token", timeout=10)
        os.kill(os.getpid(), signum)
        signal_sent.set()

    sender = threading.Thread(target=signal_during_the_request)
    sender.start()
    try:
        with pytest.raises(Interrupted) as raised:
            with exchange(deps, done="once the new session was stored") as ex:
                env = mint_into(deps, nx, ex)
    finally:
        sender.join()

    assert raised.value.exit_code == 128 + signum
    assert "once the new session was stored" in raised.value.message
    stored = json.loads((nx.config_dir / STORE_NAME).read_text())
    token = stored["environments"][nx.server.host]["session"]["access_token"]
    assert token == env.session.access_token
    assert nx.server.is_valid(token)
    assert signal.getsignal(signum) is not None  # handlers restored
