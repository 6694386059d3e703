"""Service keys in the OS keyring, against a real Secret Service (docs/keyring.md).

gnome-keyring-daemon runs on a private D-Bus session bus (tests/support/secret_service.py); what
`nexla` stored is checked from outside with secret-tool. Every `nexla` here gets that bus's
address and a fixed keyring backend, so the developer's own keyring and keyringrc.cfg never
take part. Tests that need the daemon skip when it is not installed.

A test about what a command does with a key already saved starts from a seeded one
(`seed_key_in_keyring`: the item and the record `token from-key --save-key` leaves, checked
against the real command by the first test) rather than from a run of `from-key`. Every
test here reaches the keyring, so runs a real `nexla`; commands that only read the file are
tested in-process in tests/app/test_keyring.py.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import threading
import time

import pytest

from tests.support.inprocess import run_in_process
from tests.support.keyring_items import (
    KEY,
    OTHER_KEY,
    SERVICE,
    keyring_reference,
    minted_record,
)
from tests.support.outcomes import assert_error, describe, warnings_in
from tests.support.processes import collect, finish, start
from tests.support.secret_service import SecretService, missing_programs
from tests.support.signing_in import configure, from_key
from tests.support.signing_in import session_record as aged_session
from tests.support.startup import (
    COMPLETIONS,
    run_with_importtime,
    seed_store,
    session_record,
    top_level,
)
from tests.support.stores import (
    LOCK_NAME,
    config_bytes,
    env_record,
    files_containing,
    files_under,
    read_store,
    stored_session,
    write_store,
)

# The keyring library finds D-Bus through the process's own environment (os.environ), not
# the run's: only a real `nexla`, given the private bus's address, reaches the test's keyring.

KEYRING_MODULES = {"keyring", "secretstorage", "jeepney"}
# What the keyring library writes into an item beside the service and username.
KEYRING_LIBRARY_ATTRIBUTES = {"application": "Python keyring library"}
ON_LINUX = pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="without D-Bus, the keyring library finds the Keychain or Credential Manager",
)


def _started_service():
    missing = missing_programs()
    if missing:
        pytest.skip(f"no Secret Service to test against ({', '.join(missing)} not installed)")
    return SecretService().start()


@pytest.fixture(scope="session")
def secret_service():
    """One keyring for the whole run; every test's items are apart (their config dirs are)."""
    service = _started_service()
    yield service
    service.stop()


@pytest.fixture
def own_secret_service():
    """A keyring for one test, which may lock it or stop its daemon."""
    service = _started_service()
    yield service
    service.stop()


def with_keyring(nx, service: SecretService, **more: str | None) -> dict[str, str]:
    return nx.env_with(**service.env(), **more)


def without_any_keyring(nx, **more: str | None) -> dict[str, str]:
    """No session bus at all, and the keyring library left to look for itself."""
    return nx.env_with(DBUS_SESSION_BUS_ADDRESS=None, PYTHON_KEYRING_BACKEND=None, **more)


def item_for(nx) -> dict:
    """The keyring item the credentials file names for the fake server's environment."""
    saved = env_record(nx.config_dir, nx.server.host)["saved_key"]
    assert saved["in"] == "keyring", saved
    return {"service": saved["service"], "username": saved["username"]}


def key_in_no_file(nx, *keys: str) -> None:
    found = files_containing(nx.tmp_path, *keys)
    assert found == {}, found


def seed_key_in_keyring(
    nx,
    service: SecretService,
    key: str = KEY,
    *,
    left: int = 3600,
    label: str | None = None,
    config_dir=None,
) -> dict[str, str]:
    """What `token from-key --save-key` leaves with a working keyring, without the process
    (a real one, as it uses the keyring: the dearest run here): `key` in an item as the
    keyring library writes it, a session minted with it (`left` seconds to go; the server
    forgets it too once it is over) and the record naming the item, which
    test_save_key_keeps_the_key_in_the_keyring_and_names_it_in_the_file compares with the
    command's own. In the test's config dir, or `config_dir`. Returns the item's reference."""
    config_dir = config_dir or nx.config_dir
    nx.server.add_service_key(key)
    token = nx.server.issue_token(source="service_key")
    if left <= 0:
        nx.server.expire(token)
    reference = keyring_reference(nx, config_dir)
    service.store(
        **reference,
        secret=key,
        label=label or f"Password for '{reference['username']}' on '{SERVICE}'",
        attributes=KEYRING_LIBRARY_ATTRIBUTES,
    )
    now = int(time.time())
    session = {"access_token": token, "obtained_at": now + left - 3600, "expires_at": now + left}
    record = minted_record(nx, session, saved_key={"in": "keyring", **reference})
    write_store(config_dir, {nx.server.host: record}, nx.server.host)
    (config_dir / LOCK_NAME).touch(mode=0o600)  # left by every command that writes
    return reference


def in_process(nx, *args: str, env: dict[str, str]):
    """`nexla ARGS` in this process, for a command that reads only the file and never the
    keyring (test_token_print_help_and_tab_never_touch_d_bus_or_load_keyring)."""
    return run_in_process(list(args), env=env, cwd=nx.tmp_path)


# Keeping, using and forgetting a key -------------------------------------------------------


def test_save_key_keeps_the_key_in_the_keyring_and_names_it_in_the_file(nx, secret_service):
    env = with_keyring(nx, secret_service)
    result = from_key(nx, KEY, "--save-key", env=env)
    assert result.returncode == 0, describe(result)

    record = env_record(nx.config_dir, nx.server.host)
    assert record["saved_key"] == {
        "in": "keyring",
        "service": SERVICE,
        "username": f"{nx.server.host} (user 42, org 7) in {nx.config_dir}",
    }
    # Exactly what seed_key_in_keyring writes for the other tests, and the item likewise.
    seeded = {"in": "keyring", **keyring_reference(nx)}
    assert record == minted_record(nx, record["session"], saved_key=seeded)
    username = record["saved_key"]["username"]
    (attributes,) = [item for item in secret_service.items() if item.get("username") == username]
    assert KEYRING_LIBRARY_ATTRIBUTES.items() <= attributes.items()
    assert secret_service.lookup(**item_for(nx)) == KEY
    key_in_no_file(nx, KEY)  # nowhere under the test's directory, config dir included
    assert "Saved the service key" in result.stderr and "OS keyring" in result.stderr
    assert warnings_in(result) == []
    assert KEY not in result.stdout + result.stderr


def test_saving_the_same_key_again_does_not_rewrite_the_item(nx, secret_service):
    # On macOS a rewrite deletes and re-adds the item, dropping the user's "Always Allow".
    env = with_keyring(nx, secret_service)
    # A label of our own: any write through the keyring library (and any new item) has
    # the library's label, so this one is still there only if the item was not written.
    untouched = "saved before, never rewritten"
    item = seed_key_in_keyring(nx, secret_service, KEY, label=untouched)
    written = secret_service.modified(**item)

    again = from_key(nx, KEY, "--save-key", env=env)
    assert again.returncode == 0, describe(again)
    assert secret_service.label(**item) == untouched
    assert secret_service.modified(**item) == written
    assert item_for(nx) == item

    # Another key is written, into an item of its own (the next test says why).
    replaced = from_key(nx, OTHER_KEY, "--save-key", env=env)
    assert replaced.returncode == 0, describe(replaced)
    assert secret_service.lookup(**item_for(nx)) == OTHER_KEY


def test_a_remint_after_expiry_reads_the_key_from_the_keyring(nx, secret_service):
    env = with_keyring(nx, secret_service)
    seed_key_in_keyring(nx, secret_service, KEY, left=-10)  # expired, here and on the server
    first = stored_session(nx)["access_token"]

    printed = nx.ok("token", "print", env=env)
    assert printed.stdout.strip() not in ("", first)
    assert nx.server.is_valid(printed.stdout.strip())
    assert nx.server.count("POST", "/token") == 1
    assert nx.server.last("POST", "/token").authorization == f"Basic {KEY}"
    key_in_no_file(nx, KEY)


@ON_LINUX
def test_a_remint_where_no_keyring_can_be_reached_is_exit_3_naming_it(nx, secret_service):
    # A cron job without the desktop session's bus: the key is in the keyring, out of reach.
    seed_key_in_keyring(nx, secret_service, KEY, left=-10)
    data_before = config_bytes(nx)
    printed = nx.run("token", "print", env=without_any_keyring(nx))

    assert_error(printed, 3, "OS keyring")
    assert "none is available" in printed.stderr
    assert nx.server.count("POST", "/token") == 0
    assert config_bytes(nx) == data_before


def test_logout_forgets_the_key_in_the_keyring_too(nx, secret_service):
    env = with_keyring(nx, secret_service)
    item = seed_key_in_keyring(nx, secret_service, KEY)

    result = nx.ok("env", "logout", env=env)
    assert secret_service.lookup(**item) is None
    record = env_record(nx.config_dir, nx.server.host)
    assert "saved_key" not in record
    assert warnings_in(result) == []


def test_remove_forgets_the_key_in_the_keyring_too(nx, secret_service):
    env = with_keyring(nx, secret_service)
    item = seed_key_in_keyring(nx, secret_service, KEY)

    nx.ok("env", "remove", nx.server.host, env=env)
    assert secret_service.lookup(**item) is None


def test_signing_in_again_to_the_same_identity_keeps_its_key_in_the_keyring(nx, secret_service):
    # The same user in the same org (README, "Several orgs"): the key is that identity's own.
    env = with_keyring(nx, secret_service)
    item = seed_key_in_keyring(nx, secret_service, KEY)

    result = configure(nx, nx.server.host, nx.server.issue_token(), env=env)

    assert "service key" not in result.stderr
    assert secret_service.lookup(**item) == KEY
    assert env_record(nx.config_dir, nx.server.host)["saved_key"] == {"in": "keyring", **item}


def test_another_key_of_the_same_identity_without_save_key_keeps_the_saved_one(
    nx, secret_service
):
    env = with_keyring(nx, secret_service)
    item = seed_key_in_keyring(nx, secret_service, KEY)

    same = from_key(nx, KEY, env=env)
    assert same.returncode == 0, describe(same)
    assert secret_service.lookup(**item) == KEY, "the same key keeps its saved copy"

    other = from_key(nx, OTHER_KEY, env=env)
    assert other.returncode == 0, describe(other)
    assert "service key" not in other.stderr
    assert env_record(nx.config_dir, nx.server.host)["saved_key"] == {"in": "keyring", **item}
    assert secret_service.lookup(**item) == KEY


def write_first_release_store(nx, **key_fields: object) -> None:
    """The fake server's environment with an expired session and a saved key, in format 1
    as the first release wrote it: the key's fields beside the session
    (docs/file-format.md, "Versions")."""
    env = {
        "api_url": nx.server.api_url,
        "session": aged_session(nx.server.issue_token(), age=4000, lifetime=3600),
        **key_fields,
    }
    data = {"version": 1, "current": nx.server.host, "environments": {nx.server.host: env}}
    nx.config_dir.mkdir(mode=0o700, exist_ok=True)
    path = nx.config_dir / "credentials.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    path.chmod(0o600)


def test_a_key_saved_in_the_file_by_the_first_release_works_and_moves_on_the_next_save(
    nx, secret_service
):
    env = with_keyring(nx, secret_service)
    nx.server.add_service_key(KEY)
    write_first_release_store(nx, service_key=KEY)

    printed = in_process(nx, "token", "print", env=env)  # the key is read from the file
    assert printed.returncode == 0, describe(printed)
    assert nx.server.last("POST", "/token").authorization == f"Basic {KEY}"
    # Still where it was, in the current format since the new session was written.
    assert env_record(nx.config_dir, nx.server.host)["saved_key"] == {"in": "file", "key": KEY}
    assert json.loads(config_bytes(nx)["credentials.json"])["version"] == 3

    saved = from_key(nx, KEY, "--save-key", env=env)
    assert saved.returncode == 0, describe(saved)
    assert secret_service.lookup(**item_for(nx)) == KEY
    key_in_no_file(nx, KEY)


def test_a_key_the_first_release_kept_in_the_keyring_is_read_from_the_item_it_named(
    nx, secret_service
):
    env = with_keyring(nx, secret_service)
    nx.server.add_service_key(KEY)
    item = {"service": SERVICE, "username": f"{nx.server.host} in {nx.config_dir} (v1)"}
    secret_service.store(item["service"], item["username"], KEY)
    write_first_release_store(nx, service_key_keyring=item)

    printed = nx.ok("token", "print", env=env)
    assert nx.server.is_valid(printed.stdout.strip())
    assert nx.server.last("POST", "/token").authorization == f"Basic {KEY}"
    # The new session was written in the current format, naming the same item.
    assert json.loads(config_bytes(nx)["credentials.json"])["version"] == 3
    assert env_record(nx.config_dir, nx.server.host)["saved_key"] == {"in": "keyring", **item}
    assert secret_service.lookup(**item) == KEY
    key_in_no_file(nx, KEY)


# Choosing where: NEXLA_KEY_STORAGE ---------------------------------------------------------


def test_keyring_storage_uses_the_keyring(nx, secret_service):
    env = with_keyring(nx, secret_service, NEXLA_KEY_STORAGE="keyring")
    result = from_key(nx, KEY, "--save-key", env=env)
    assert result.returncode == 0, describe(result)
    assert secret_service.lookup(**item_for(nx)) == KEY
    key_in_no_file(nx, KEY)


# a regression would reach the test's keyring only from a real process
def test_file_storage_keeps_the_key_in_the_file_and_leaves_the_keyring_alone(nx, secret_service):
    env = with_keyring(nx, secret_service, NEXLA_KEY_STORAGE="file")
    result = from_key(nx, KEY, "--save-key", env=env)
    assert result.returncode == 0, describe(result)
    assert env_record(nx.config_dir, nx.server.host)["saved_key"] == {"in": "file", "key": KEY}
    assert warnings_in(result) == []  # chosen on purpose: no warning
    assert str(nx.config_dir / "credentials.json") in result.stderr
    assert not [
        item for item in secret_service.items() if str(nx.config_dir) in item.get("username", "")
    ]


@ON_LINUX
# the keyring library looks for one in the process's own environment
def test_no_keyring_at_all_auto_keeps_the_key_in_the_file_with_a_warning_naming_it(nx):
    result = from_key(nx, KEY, "--save-key", env=without_any_keyring(nx))
    assert result.returncode == 0, describe(result)
    (warning,) = warnings_in(result)
    assert str(nx.config_dir / "credentials.json") in warning and "plain text" in warning
    assert env_record(nx.config_dir, nx.server.host)["saved_key"] == {"in": "file", "key": KEY}
    assert KEY not in result.stderr


@ON_LINUX
# the keyring library looks for one in the process's own environment
def test_no_keyring_at_all_keyring_storage_is_exit_3_and_nothing_is_sent(nx):
    result = from_key(
        nx, KEY, "--save-key", env=without_any_keyring(nx, NEXLA_KEY_STORAGE="keyring")
    )
    assert_error(result, 3, "OS keyring")
    assert "NEXLA_KEY_STORAGE=file" in result.stderr
    assert nx.server.count() == 0
    assert config_bytes(nx) == {}


@ON_LINUX
# no bus in the process's own environment
def test_a_chosen_keyring_backend_that_cannot_work_is_exit_3_not_plain_text(nx):
    # The user's configuration names the Secret Service, but there is no bus: a keyring
    # exists and fails, which is not "no keyring at all".
    env = nx.env_with(
        DBUS_SESSION_BUS_ADDRESS=None,
        PYTHON_KEYRING_BACKEND="keyring.backends.SecretService.Keyring",
    )
    result = from_key(nx, KEY, "--save-key", env=env)
    assert_error(result, 3, "OS keyring")
    assert nx.server.count() == 0
    assert config_bytes(nx) == {}
    key_in_no_file(nx, KEY)


# A keyring that is locked or does not answer ---------------------------------------------


def test_a_locked_keyring_is_exit_3_under_auto_and_the_key_lands_nowhere(nx, own_secret_service):
    env = with_keyring(nx, own_secret_service)
    seed_key_in_keyring(nx, own_secret_service, KEY)
    own_secret_service.lock()
    before = config_bytes(nx)
    sent = nx.server.count()

    result = from_key(nx, OTHER_KEY, "--save-key", env=env)

    error = assert_error(result, 3, "locked")
    assert "unlock" in result.stderr and "NEXLA_KEY_STORAGE=file" in result.stderr
    assert "OS keyring" in error
    assert nx.server.count() == sent  # found out before anything was sent
    assert config_bytes(nx) == before
    key_in_no_file(nx, OTHER_KEY)


def test_logout_with_a_locked_keyring_warns_and_still_logs_out(nx, own_secret_service):
    env = with_keyring(nx, own_secret_service)
    item = seed_key_in_keyring(nx, own_secret_service, KEY)
    own_secret_service.lock()

    result = nx.ok("env", "logout", env=env)
    (warning,) = warnings_in(result)
    assert "could not delete" in warning and "locked" in warning and SERVICE in warning
    # The file forgot the key first: no reference is left to a key nobody may delete.
    record = env_record(nx.config_dir, nx.server.host)
    assert "saved_key" not in record and "session" not in record
    assert KEY not in result.stderr
    assert item["username"] in warning


# and the product's own bound, which a real process alone has
def test_a_keyring_that_does_not_answer_is_given_up_after_about_3_seconds(nx, own_secret_service):
    """Every command that needs a silent keyring (its daemon stopped while the bus still
    names it) gives up on it after the product's 3 s, and none leaves a half-done change:

    - a save finds it out with its probe: exit 3, nothing sent or stored;
    - a save whose keyring went silent after the probe, while the key was being minted:
      exit 3, and nothing left behind, as the key goes into the keyring before the file
      names it;
    - a re-mint: exit 3; a logout: a warning, and logged out all the same.

    All four run at once, each in a config dir of its own, so that their waits (a real
    process's, of the real length) overlap.
    """
    dirs = {name: nx.tmp_path / name for name in ("midway", "save", "remint", "logout")}
    seed_key_in_keyring(nx, own_secret_service, KEY, left=-10, config_dir=dirs["remint"])
    seed_key_in_keyring(nx, own_secret_service, KEY, config_dir=dirs["logout"])
    logout_session = read_store(dirs["logout"])["environments"][nx.server.host]["session"]
    keyring_env = with_keyring(nx, own_secret_service)

    def nexla(name: str, *args: str, **env: str):
        return start(nx, *args, env=dict(keyring_env, NEXLA_CONFIG_DIR=str(dirs[name]), **env))

    save_args = ("token", "from-key", "--env", nx.server.host, "--save-key")
    # The mint is held long enough for this test to stop the daemon once the request has
    # arrived (wait_for_count wakes at once): a second is ample even on a loaded machine.
    nx.server.add_service_key(OTHER_KEY)
    nx.server.set_delay("POST", "/token", 1)
    midway = nexla("midway", *save_args, NEXLA_SERVICE_KEY=OTHER_KEY)
    assert nx.server.wait_for_count("POST", "/token", 1, timeout=30)
    own_secret_service.pause()
    began = time.monotonic()
    save = nexla("save", *save_args, NEXLA_SERVICE_KEY=KEY)
    remint = nexla("remint", "token", "print")
    logout = nexla("logout", "env", "logout")
    saved = finish(save)
    took = time.monotonic() - began  # the save's own time, or a little more
    saved_midway, printed, logged_out = collect([midway, remint, logout])
    all_took = time.monotonic() - began

    assert_error(saved, 3, "did not answer within 3 seconds")
    assert "NEXLA_KEY_STORAGE=file" in saved.stderr
    # 3 s of waiting, plus start-up; generous for a loaded machine, far below a hang.
    assert 2.9 <= took < 15, took

    assert_error(saved_midway, 3, "did not answer")
    assert "not stored" in saved_midway.stderr
    # A failed first command leaves nothing behind: no session, no reference to a key, not
    # even the lock file it took to store them.
    for name in ("midway", "save"):
        assert not dirs[name].exists() or files_under(dirs[name]) == [], name

    assert_error(printed, 3, "did not answer")

    assert logged_out.returncode == 0, describe(logged_out)
    (warning,) = warnings_in(logged_out)
    assert "did not answer" in warning
    assert "saved_key" not in read_store(dirs["logout"])["environments"][nx.server.host]

    assert all_took < 15, all_took
    # Nothing reached the server but the interrupted mint and the logout ending its session.
    assert nx.server.count("POST", "/token") == 1
    sent = {call.authorization for call in nx.server.find()}
    assert sent <= {f"Basic {OTHER_KEY}", f"Bearer {logout_session['access_token']}"}, sent


# Never touched on the paths that do not need it ------------------------------------------


class BusSpy:
    """A unix socket posing as a session bus that logs each connection and hangs up."""

    def __init__(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="nxspy-")
        self.path = os.path.join(self.directory, "bus")
        self.connections = 0
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        self._server.listen(16)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"unix:path={self.path}"

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._server.close()
        os.unlink(self.path)
        os.rmdir(self.directory)


@pytest.fixture
def bus_spy():
    spy = BusSpy()
    yield spy
    spy.close()


@ON_LINUX
# what each `nexla` process imports, and whom it connects to
def test_token_print_help_and_tab_never_touch_d_bus_or_load_keyring(nx, bus_spy):
    seed_store(
        nx.config_dir,
        {nx.server.host: (nx.server.api_url, session_record("tok-fresh", left=3000))},
        nx.server.host,
    )
    # Where a saved key is must not matter to these: it is in the keyring.
    data = (nx.config_dir / "credentials.json").read_text()
    (nx.config_dir / "credentials.json").write_text(
        data.replace(
            '"session":',
            '"saved_key": {"in": "keyring", "service": "nexla service key", "username": "x"}, '
            '"session":',
            1,
        )
    )
    env = nx.env_with(DBUS_SESSION_BUS_ADDRESS=bus_spy.address, PYTHON_KEYRING_BACKEND=None)
    runs = {
        "token print": (["token", "print"], {}),
        "--help": (["--help"], {}),
        "token from-key --help": (["token", "from-key", "--help"], {}),
        "--version": (["--version"], {}),
        "TAB": ([], dict(_NEXLA_COMPLETE="complete_bash", **COMPLETIONS["bash"])),
        "token status": (["token", "status"], {}),
        "env show": (["env", "show"], {}),
        "env list": (["env", "list"], {}),
    }
    for what, (args, extra) in runs.items():
        result, modules, rest = run_with_importtime(args, dict(env, **extra), nx.tmp_path)
        assert result.returncode == 0, (what, rest)
        assert not KEYRING_MODULES & top_level(modules), (what, KEYRING_MODULES & modules)
        assert bus_spy.connections == 0, what
    assert nx.server.count() == 0

    # The checks above can fail: a command that saves a key does load keyring and call the
    # bus (which hangs up, so the key goes to the file with a warning).
    saving = dict(env, NEXLA_SERVICE_KEY=KEY)
    nx.server.add_service_key(KEY)
    result, modules, rest = run_with_importtime(
        ["token", "from-key", "--save-key"], saving, nx.tmp_path
    )
    assert result.returncode == 0, rest
    assert {"keyring", "jeepney"} <= top_level(modules)
    assert bus_spy.connections >= 1


# what the `nexla` process imports, and whom it connects to
def test_storage_file_never_touches_d_bus(nx, bus_spy):
    env = nx.env_with(
        DBUS_SESSION_BUS_ADDRESS=bus_spy.address,
        PYTHON_KEYRING_BACKEND=None,
        NEXLA_KEY_STORAGE="file",
    )
    nx.server.add_service_key(KEY)
    result, modules, rest = run_with_importtime(
        ["token", "from-key", "--env", nx.server.host, "--save-key"],
        dict(env, NEXLA_SERVICE_KEY=KEY),
        nx.tmp_path,
    )
    assert result.returncode == 0, rest
    assert not KEYRING_MODULES & top_level(modules)
    assert bus_spy.connections == 0
    assert env_record(nx.config_dir, nx.server.host)["saved_key"] == {"in": "file", "key": KEY}
    for args in (("token", "status"), ("env", "logout")):
        assert nx.run(*args, env=env).returncode == 0
    assert bus_spy.connections == 0


def test_saving_another_key_writes_a_new_item_and_then_forgets_the_old_one(nx, secret_service):
    """docs/keyring.md: the item the file names is never overwritten with another key, so a
    process killed between the keyring write and the file write leaves the old key beside
    the old session; once the file names the new item, the old one is deleted."""
    env = with_keyring(nx, secret_service)
    nx.server.add_service_key(OTHER_KEY)
    first = seed_key_in_keyring(nx, secret_service, KEY)

    again = from_key(nx, OTHER_KEY, "--save-key", env=env)
    assert again.returncode == 0, describe(again)
    named = item_for(nx)
    assert named["username"] != first["username"]
    assert named["username"].startswith(first["username"] + " (")
    assert secret_service.lookup(service=named["service"], username=named["username"]) == (
        OTHER_KEY
    )
    assert secret_service.lookup(**first) is None  # forgotten after the file was written
    key_in_no_file(nx, OTHER_KEY)


@ON_LINUX
def test_a_refused_refresh_is_remembered_when_the_key_cannot_be_read(nx, secret_service):
    """docs/sessions.md: a refresh the server refused is remembered even when the saved key
    that would replace the session is out of reach, so the dead token is not sent again and
    `token status` does not call it valid."""
    seed_key_in_keyring(nx, secret_service, KEY, left=100)  # due, not yet expired
    nx.server.invalidate(stored_session(nx)["access_token"])
    unreachable = without_any_keyring(nx)

    first = nx.run("token", "print", env=unreachable)
    assert_error(first, 3, "OS keyring")
    again = nx.run("token", "print", env=unreachable)
    assert_error(again, 3, "OS keyring")
    assert nx.server.count("POST", "/token/refresh") == 1
    assert stored_session(nx)["refresh_failure"]["kind"] == "rejected"
    status = in_process(nx, "token", "status", env=unreachable)  # reads the file alone
    assert status.returncode == 4, describe(status)
