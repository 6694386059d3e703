"""Files written by an older nexla (docs/file-format.md, "Versions" and "Migrations").

A file in an older format is brought up to date as it is read, in memory: nothing is
written by reading, and the next write stores the current format. A file from a newer nexla
is refused (exit 3) and never rewritten. Fields this version does not know survive a
rewrite, at every level of the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nexla_cli.auth import storedsessions
from nexla_cli.core.runtime import Streams
from nexla_cli.deps import Deps
from nexla_cli.storage import keys
from nexla_cli.storage.store import FORMAT_VERSION, CredentialStore, read_store
from tests.support.outcomes import assert_clean_error
from tests.support.stores import store_bytes, store_path

# As the first release wrote it: json.dump(data, indent=2, sort_keys=True) and a newline,
# format 1. One environment keeps its service key in the file (refused by the server once),
# one names the OS keyring item that holds its key, one is configured but not signed in.
FIRST_RELEASE_FILE = """\
{
  "current": "dataops.nexla.io",
  "environments": {
    "beta.nexla.com": {
      "api_url": "https://beta.nexla.com/nexla-api",
      "service_key_keyring": {
        "service": "nexla service key",
        "username": "beta.nexla.com in /home/ada/.config/nexla"
      },
      "session": {
        "access_token": "tok-beta",
        "expires_at": 1796259600,
        "expires_estimated": false,
        "obtained_at": 1796256000,
        "org": null,
        "source": "service_key",
        "token_type": "Bearer",
        "user": {
          "email": "svc@example.com",
          "full_name": "Service Account",
          "id": 9
        }
      }
    },
    "dataops.nexla.io": {
      "api_url": "https://dataops.nexla.io/nexla-api",
      "service_key": "svc-in-the-file",
      "service_key_rejected_at": 1796255900,
      "session": {
        "access_token": "tok-dataops",
        "expires_at": 1796256000,
        "expires_estimated": false,
        "obtained_at": 1796252400,
        "org": {
          "id": 7,
          "name": "Example Org"
        },
        "refresh_failure": {
          "at": 1796255800,
          "kind": "rejected"
        },
        "source": "refreshed",
        "token_type": "Bearer",
        "user": {
          "email": "ada@example.com",
          "full_name": "Ada Lovelace",
          "id": 42
        }
      }
    },
    "localhost:8443": {
      "api_url": "https://localhost:8443/nexla-api"
    }
  },
  "version": 1
}
"""


def write_file(nx, text: str) -> Path:
    nx.config_dir.mkdir(mode=0o700, exist_ok=True)
    path = store_path(nx.config_dir)
    path.write_text(text)
    path.chmod(0o600)
    return path


def no_deps() -> Deps:
    """A run with nothing in it: enough for keys.read of a key kept in the file."""
    return Deps({}, Streams(None, None, None))


def test_a_first_release_file_is_read_field_by_field_and_left_as_it_is(nx):
    path = write_file(nx, FIRST_RELEASE_FILE)

    data = CredentialStore(path).load()

    assert data.version == FORMAT_VERSION == 3
    assert data.current == "dataops.nexla.io"
    assert list(data.environments) == ["beta.nexla.com", "dataops.nexla.io", "localhost:8443"]
    assert data.extra == {}

    dataops = data.environments["dataops.nexla.io"]
    assert dataops.api_url == "https://dataops.nexla.io/nexla-api"
    assert dataops.extra == {}
    stored = dataops.session
    assert stored is not None
    assert stored.access_token == "tok-dataops"
    assert stored.token_type == "Bearer"
    assert (stored.obtained_at, stored.expires_at) == (1796252400, 1796256000)
    assert stored.expires_estimated is False
    assert stored.source == "refreshed"
    assert stored.user == {"email": "ada@example.com", "full_name": "Ada Lovelace", "id": 42}
    assert stored.org == {"id": 7, "name": "Example Org"}
    assert stored.refresh_failure == {"at": 1796255800, "kind": "rejected"}
    assert stored.rejected and stored.extra == {}
    # The key kept in the file, and the server's refusal of it, are one object now.
    assert keys.location(dataops) == keys.IN_FILE
    assert keys.read(no_deps().keyring, dataops, "dataops.nexla.io") == "svc-in-the-file"
    assert dataops.saved_key is not None
    assert dataops.saved_key.rejected_at == 1796255900
    assert storedsessions.key_refused(dataops) and not storedsessions.usable_saved_key(dataops)
    assert dataops.saved_key.to_json() == {
        "in": "file",
        "key": "svc-in-the-file",
        "rejected_at": 1796255900,
    }

    beta = data.environments["beta.nexla.com"]
    assert beta.api_url == "https://beta.nexla.com/nexla-api"
    stored = beta.session
    assert stored is not None
    assert stored.access_token == "tok-beta"
    assert (stored.obtained_at, stored.expires_at) == (1796256000, 1796259600)
    assert stored.source == "service_key" and stored.org is None
    assert stored.user == {"email": "svc@example.com", "full_name": "Service Account", "id": 9}
    assert stored.refresh_failure is None and not stored.rejected
    # The keyring item the file named: read from the keyring only to mint (test_keyring.py).
    assert keys.location(beta) == keys.IN_KEYRING
    assert storedsessions.usable_saved_key(beta) and not storedsessions.key_refused(beta)
    assert beta.saved_key is not None
    assert beta.saved_key.to_json() == {
        "in": "keyring",
        "service": "nexla service key",
        "username": "beta.nexla.com in /home/ada/.config/nexla",
    }

    local = data.environments["localhost:8443"]
    assert local.api_url == "https://localhost:8443/nexla-api"
    assert local.session is None and local.saved_key is None and local.extra == {}

    # Reading never writes: an older nexla still reads the file it wrote.
    assert path.read_text() == FIRST_RELEASE_FILE


def test_a_command_that_changes_nothing_leaves_an_older_file_as_it_is(nx):
    write_file(nx, FIRST_RELEASE_FILE)
    for args in (("env", "list"), ("env", "show", "--json"), ("env", "use", "dataops.nexla.io")):
        result = nx.run(*args)
        assert result.returncode == 0, (args, result.stderr)
    assert store_bytes(nx.config_dir).decode() == FIRST_RELEASE_FILE


def test_the_next_write_stores_the_current_format_with_every_field_kept(nx):
    write_file(nx, FIRST_RELEASE_FILE)

    nx.ok("env", "use", "beta.nexla.com")
    expected = json.loads(FIRST_RELEASE_FILE)
    expected["version"] = 3
    expected["current"] = "beta.nexla.com"
    beta = expected["environments"]["beta.nexla.com"]
    beta["saved_key"] = {"in": "keyring", **beta.pop("service_key_keyring")}
    dataops = expected["environments"]["dataops.nexla.io"]
    dataops["saved_key"] = {
        "in": "file",
        "key": dataops.pop("service_key"),
        "rejected_at": dataops.pop("service_key_rejected_at"),
    }
    written = store_bytes(nx.config_dir).decode()
    assert json.loads(written) == expected
    for field in ("service_key", "service_key_keyring", "service_key_rejected_at"):
        assert f'"{field}":' not in written
    # Written as every version writes the file, and read back as it was migrated.
    assert written == json.dumps(expected, indent=2, sort_keys=True) + "\n"
    again = read_store(store_path(nx.config_dir))
    assert again.to_json() == expected


def test_a_format_1_file_without_any_saved_key_keeps_none(nx):
    # Format 1 counted only a non-empty key or a keyring object; a refusal beside no key
    # meant nothing. None of it becomes a saved key.
    data = json.loads(FIRST_RELEASE_FILE)
    local = data["environments"]["localhost:8443"]
    local.update(service_key="", service_key_keyring=None, service_key_rejected_at=1796255900)
    write_file(nx, json.dumps(data, indent=2, sort_keys=True) + "\n")

    loaded = read_store(store_path(nx.config_dir)).environments["localhost:8443"]

    assert loaded.saved_key is None and not keys.is_saved(loaded)
    assert loaded.to_json() == {"api_url": "https://localhost:8443/nexla-api"}


def test_what_format_1_tolerated_until_a_key_was_used_stays_harmless(nx):
    """Format 1 failed on these only when the key was used; the step to 2 must not turn
    them into a corrupt file (whose hint would set every other environment aside)."""
    data = json.loads(FIRST_RELEASE_FILE)
    data["environments"]["beta.nexla.com"]["service_key_keyring"] = {
        "service": "nexla service key"  # no account: names no item
    }
    data["environments"]["dataops.nexla.io"]["service_key_rejected_at"] = "2024-01-01"
    write_file(nx, json.dumps(data, indent=2, sort_keys=True) + "\n")

    stored = read_store(store_path(nx.config_dir))

    assert stored.environments["beta.nexla.com"].saved_key is None
    dataops = stored.environments["dataops.nexla.io"]
    assert dataops.saved_key is not None and storedsessions.key_refused(dataops)
    assert dataops.saved_key.rejected_at == 0  # refused, at an unknown time


def test_fields_this_version_does_not_know_survive_a_rewrite(nx):
    data = json.loads(FIRST_RELEASE_FILE)
    data["version"] = 2
    data["defaults"] = {"output": "json"}
    dataops = data["environments"]["dataops.nexla.io"]
    dataops["saved_key"] = {"in": "file", "key": dataops.pop("service_key"), "since": 1}
    del dataops["service_key_rejected_at"]
    env = data["environments"]["beta.nexla.com"]
    env["saved_key"] = {"in": "keyring", "item_label": "x", **env.pop("service_key_keyring")}
    env["labels"] = ["prod"]
    env["session"]["refresh_token"] = "rt-kept"
    write_file(nx, json.dumps(data))

    nx.ok("env", "use", "localhost:8443")
    written = json.loads(store_bytes(nx.config_dir))
    assert written["current"] == "localhost:8443"
    assert written["defaults"] == {"output": "json"}
    beta = written["environments"]["beta.nexla.com"]
    assert beta["labels"] == ["prod"]
    assert beta["session"]["refresh_token"] == "rt-kept"
    assert beta["saved_key"]["item_label"] == "x"
    assert written["environments"]["dataops.nexla.io"]["saved_key"]["since"] == 1


@pytest.mark.parametrize(
    "args",
    [
        ("env", "list"),
        ("token", "print"),
        ("env", "use", "beta.nexla.com"),
        ("env", "logout", "--all"),
        ("env", "remove", "beta.nexla.com"),
        ("env", "configure", "dataops.nexla.io", "--with-token"),
        ("token", "from-key", "--env", "dataops.nexla.io"),
    ],
    ids=" ".join,
)
def test_a_file_from_a_newer_nexla_is_refused_and_never_rewritten(nx, args):
    data = json.loads(FIRST_RELEASE_FILE)
    data["version"] = FORMAT_VERSION + 1
    newer = json.dumps(data, indent=2, sort_keys=True) + "\n"
    path = write_file(nx, newer)

    result = nx.run(*args, input="tok-pasted\n", env=nx.env_with(NEXLA_SERVICE_KEY="svc-x"))

    assert_clean_error(result, 3, str(path), f"format {FORMAT_VERSION + 1}", "upgrade nexla")
    assert store_bytes(nx.config_dir).decode() == newer
    assert sorted(p.name for p in nx.config_dir.iterdir()) in (
        ["credentials.json"],
        ["credentials.json", "credentials.json.lock"],
    )
    assert nx.server.count() == 0


@pytest.mark.parametrize(
    "saved_key",
    [
        "svc-a-string",
        {"in": "disk", "key": "svc"},
        {"in": "file"},
        {"in": "keyring", "service": "nexla service key"},
        {"in": "file", "key": "svc", "rejected_at": "yesterday"},
    ],
    ids=["not an object", "unknown place", "no key", "no account", "odd time"],
)
def test_a_saved_key_this_version_cannot_read_is_a_corrupt_file(nx, saved_key):
    data = json.loads(FIRST_RELEASE_FILE)
    data["version"] = 2
    env = data["environments"]["localhost:8443"]
    env["saved_key"] = saved_key
    original = json.dumps(data)
    path = write_file(nx, original)

    result = nx.run("env", "list")

    assert_clean_error(result, 3, f"cannot parse {path}", "saved_key")
    assert store_bytes(nx.config_dir).decode() == original
