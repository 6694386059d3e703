"""A real freedesktop Secret Service for tests: gnome-keyring-daemon on a private D-Bus bus.

The bus has its own config: a session bus with EXTERNAL auth, an allow-all policy and no
service directories, so nothing is ever started on demand (no second daemon outliving the
test, no prompter). The daemon is started unlocked with a non-empty password on its stdin
(an empty one creates no login keyring and every call is then "Prompt dismissed"), with its
data and runtime dirs in a temporary directory and no display. Both are stopped by PID.

Used by tests/app/test_keyring.py and benchmarks/keyring_remint.py.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SECRETS_BUS_NAME = "org.freedesktop.secrets"
DEFAULT_COLLECTION = "/org/freedesktop/secrets/aliases/default"
# The backend the nexla subprocess is told to use, so the developer's keyringrc.cfg or
# $PYTHON_KEYRING_BACKEND never decides where a test's key goes.
SECRET_SERVICE_BACKEND = "keyring.backends.SecretService.Keyring"

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def missing_programs() -> list[str]:
    return [name for name in ("dbus-daemon", "gnome-keyring-daemon") if not shutil.which(name)]


class SecretService:
    """One private bus and one unlocked gnome-keyring-daemon on it."""

    def __init__(self) -> None:
        # Short: a unix socket path must fit in about 100 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="nxss-"))
        self.address = ""
        self.bus: subprocess.Popen | None = None
        self.daemon: subprocess.Popen | None = None

    # ---- life cycle ---------------------------------------------------------------------

    def start(self, timeout: float = 20.0) -> SecretService:
        try:
            self._start_bus(timeout)
            self._start_daemon(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_bus(self, timeout: float) -> None:
        config = self.root / "bus.conf"
        config.write_text(_BUS_CONFIG.format(socket=self.root / "bus"))
        self.bus = subprocess.Popen(
            [
                "dbus-daemon",
                "--nofork",
                f"--config-file={config}",
                "--print-address=1",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        # The address is printed once the bus listens (with the guid clients check).
        ready, _, _ = select.select([self.bus.stdout], [], [], timeout)
        line = self.bus.stdout.readline().decode().strip() if ready else ""
        if not line:
            raise RuntimeError("dbus-daemon printed no address")
        self.address = line

    def _start_daemon(self, timeout: float) -> None:
        for name in ("data", "runtime", "home"):
            (self.root / name).mkdir(mode=0o700)
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DISPLAY", "WAYLAND_DISPLAY", "GNOME_KEYRING_CONTROL")
        }
        env.update(
            DBUS_SESSION_BUS_ADDRESS=self.address,
            XDG_DATA_HOME=str(self.root / "data"),
            XDG_RUNTIME_DIR=str(self.root / "runtime"),
            HOME=str(self.root / "home"),
        )
        self.daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.daemon.stdin.write(b"test-keyring-password")
        self.daemon.stdin.close()
        # The daemon is ready once it owns its name on the bus, not when it has started.
        deadline = time.monotonic() + timeout
        while not self._name_has_owner():
            if self.daemon.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gnome-keyring-daemon did not take its bus name")
            time.sleep(0.05)

    def stop(self) -> None:
        for proc in (self.daemon, self.bus):
            if proc is None or proc.poll() is not None:
                continue
            os.kill(proc.pid, signal.SIGCONT)  # a paused daemon cannot act on SIGTERM
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self.bus is not None and self.bus.stdout is not None:
            self.bus.stdout.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def pause(self) -> None:
        """SIGSTOP the keyring daemon: the bus still names it, but it answers nothing."""
        os.kill(self.daemon.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.daemon.pid, signal.SIGCONT)

    # ---- looking in from outside --------------------------------------------------------

    def env(self) -> dict[str, str]:
        """Variables that point a `nexla` process (or secret-tool) at this keyring."""
        return {
            "DBUS_SESSION_BUS_ADDRESS": self.address,
            "PYTHON_KEYRING_BACKEND": SECRET_SERVICE_BACKEND,
        }

    def lookup(self, service: str, username: str) -> str | None:
        """The secret stored under (service, username), read with secret-tool when there is
        one (a client other than the keyring library), else with secretstorage."""
        if shutil.which("secret-tool"):
            result = subprocess.run(
                ["secret-tool", "lookup", "service", service, "username", username],
                env=dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.address),
                capture_output=True,
                timeout=20,
            )
            return result.stdout.decode() if result.returncode == 0 and result.stdout else None
        import secretstorage

        with self._connection() as connection:
            for item in secretstorage.search_items(
                connection, {"service": service, "username": username}
            ):
                return item.get_secret().decode()
        return None

    def items(self) -> list[dict[str, str]]:
        """The attributes of every item in the default collection."""
        import secretstorage

        with self._connection() as connection:
            collection = secretstorage.Collection(connection, DEFAULT_COLLECTION)
            return [item.get_attributes() for item in collection.get_all_items()]

    def modified(self, service: str, username: str) -> int | None:
        """When the item was last written (seconds since the epoch), None if there is none."""
        import secretstorage

        with self._connection() as connection:
            for item in secretstorage.search_items(
                connection, {"service": service, "username": username}
            ):
                return item.get_modified()
        return None

    def store(
        self,
        service: str,
        username: str,
        secret: str,
        *,
        label: str | None = None,
        attributes: dict[str, str] | None = None,
    ) -> None:
        """Create (or replace) the item for (service, username), with more attributes and a
        label of the caller's choosing."""
        import secretstorage

        with self._connection() as connection:
            collection = secretstorage.Collection(connection, DEFAULT_COLLECTION)
            collection.create_item(
                label if label is not None else f"{username} on {service}",
                {**(attributes or {}), "service": service, "username": username},
                secret.encode(),
                replace=True,
            )

    def label(self, service: str, username: str) -> str | None:
        """The item's label, None if there is none. Writing an item through the keyring
        library gives it that library's label, so a label set from outside survives only as
        long as nobody writes the item."""
        import secretstorage

        with self._connection() as connection:
            for item in secretstorage.search_items(
                connection, {"service": service, "username": username}
            ):
                return item.get_label()
        return None

    def lock(self) -> None:
        """Lock the default collection, as the screen locker or `Lock` over D-Bus does."""
        import secretstorage

        with self._connection() as connection:
            collection = secretstorage.Collection(connection, DEFAULT_COLLECTION)
            collection.lock()
            assert collection.is_locked()

    def _connection(self):
        from contextlib import closing

        from jeepney.io.blocking import open_dbus_connection

        return closing(open_dbus_connection(self.address))

    def _name_has_owner(self) -> bool:
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        try:
            connection = open_dbus_connection(self.address)
        except OSError:
            return False
        try:
            reply = connection.send_and_get_reply(
                message_bus.NameHasOwner(SECRETS_BUS_NAME), timeout=5
            )
            return bool(reply.body[0])
        finally:
            connection.close()


@contextmanager
def keyring_for(nx) -> Iterator[SecretService]:
    """A private Secret Service that nx's runs keep keys in (NEXLA_KEY_STORAGE=keyring),
    stopped afterwards; the test is skipped where none can run."""
    import pytest

    missing = missing_programs()
    if missing:
        pytest.skip(f"no Secret Service to test against ({', '.join(missing)} not installed)")
    service = SecretService().start()
    try:
        nx.env = nx.env_with(**service.env(), NEXLA_KEY_STORAGE="keyring")
        yield service
    finally:
        service.stop()
