"""Files written before identities (format 2) read unchanged, their one session the active
identity (docs/file-format.md, "Versions" and "Migrations"). The files are the ones the
release before identities wrote, kept in tests/fixtures (make_format2_stores.py says how).
"""

from __future__ import annotations

import json
from pathlib import Path

from nexla_cli.storage import store
from nexla_cli.storage.store import FORMAT_VERSION, CredentialStore
from tests.support.outcomes import assert_clean_error
from tests.support.stores import read_store, store_bytes, store_path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FILE_KEY = FIXTURES / "format2-file-key.json"
KEYRING_KEY = FIXTURES / "format2-keyring-key.json"
LABEL = "ada@example.com in Example Org (org 7)"


def copy_in(nx, fixture: Path) -> bytes:
    nx.config_dir.mkdir(mode=0o700, exist_ok=True)
    raw = fixture.read_bytes()
    path = store_path(nx.config_dir)
    path.write_bytes(raw)
    path.chmod(0o600)
    return raw


def test_a_format_2_file_reads_unchanged_its_session_the_active_identity(nx):
    raw = copy_in(nx, FILE_KEY)
    written = json.loads(raw)
    listing = json.loads(nx.ok("env", "list", "--json").stdout)
    assert [entry["name"] for entry in listing] == sorted(written["environments"])
    for entry in listing:
        stored = written["environments"][entry["name"]]
        assert entry["user"] == stored["session"]["user"]
        assert entry["org"] == stored["session"]["org"]
        [identity] = entry["identities"]
        assert identity["active"] is True and identity["identity"] == LABEL
        assert identity["service_key_location"] == (
            "file" if "saved_key" in stored else None
        )
    for args in (("env", "show", "--json"), ("token", "status", "--json")):
        assert nx.run(*args).returncode in (0, 4)  # the sessions have expired by now
    assert store_bytes(nx.config_dir) == raw  # nothing is written by reading


def test_the_next_write_stores_format_3_with_the_one_identity_where_it_was(nx):
    raw = copy_in(nx, FILE_KEY)
    written = json.loads(raw)
    other = next(name for name in written["environments"] if name != written["current"])
    nx.ok("env", "use", other)
    after = read_store(nx.config_dir)
    assert after["version"] == FORMAT_VERSION == 3
    assert after["current"] == other
    assert after["environments"] == written["environments"]


def test_a_keyring_reference_of_format_2_is_kept_and_shown(nx):
    raw = copy_in(nx, KEYRING_KEY)
    [(name, stored)] = json.loads(raw)["environments"].items()
    shown = json.loads(nx.ok("env", "show", "--env", name, "--json").stdout)
    assert shown["service_key_location"] == "keyring"
    assert shown["identities"][0]["service_key_location"] == "keyring"
    nx.ok("env", "use", name)
    assert read_store(nx.config_dir)["environments"][name]["saved_key"] == stored["saved_key"]


def test_a_format_3_file_is_refused_by_a_format_2_reader(nx, monkeypatch):
    written = json.loads(copy_in(nx, FILE_KEY))
    other = next(name for name in written["environments"] if name != written["current"])
    nx.ok("env", "use", other)  # a change: the file is written as format 3
    path = store_path(nx.config_dir)
    assert read_store(nx.config_dir)["version"] == 3
    # The reader of the release before identities checked the version the same way.
    monkeypatch.setattr(store, "FORMAT_VERSION", 2)
    try:
        CredentialStore(path).load()
    except store.ConfigError as exc:
        assert "format 3" in exc.message and str(path) in exc.message
        assert exc.exit_code == 3
    else:
        raise AssertionError("a format 2 reader read a format 3 file")


def test_a_file_from_a_newer_nexla_than_format_3_is_refused(nx):
    data = json.loads(FILE_KEY.read_text())
    data["version"] = FORMAT_VERSION + 1
    copy_in(nx, FILE_KEY)
    store_path(nx.config_dir).write_text(json.dumps(data))
    result = nx.run("token", "print", "--org", "7")
    assert_clean_error(result, 3, f"format {FORMAT_VERSION + 1}", "upgrade nexla")
