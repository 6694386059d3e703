"""`nexla token from-key`: where the key comes from, POST /token, and what is stored."""

from __future__ import annotations

import json
import os
import stat
import sys
import time

import pytest

from tests.support.fake_nexla import DEFAULT_ORG, DEFAULT_USER
from tests.support.outcomes import describe
from tests.support.signing_in import from_key
from tests.support.stores import (
    config_bytes,
    config_contains,
    read_store,
    stored_session,
)

# Characters a base64 step or URL encoding would change: the key must travel as given.
ODD_KEY = "svc:Zm9v/bar+baz==.~"


def test_key_from_the_variable_mints_a_session_for_a_new_environment(nx):
    nx.server.default_lifetime = 1200
    result = from_key(nx, ODD_KEY)
    assert result.returncode == 0, describe(result)

    assert nx.server.count() == 1
    request = nx.server.last("POST", "/token")
    assert request.authorization == f"Basic {ODD_KEY}"
    assert request.header("content-length") == "0"

    data = read_store(nx.config_dir)
    assert data["current"] == nx.server.host  # none was current
    env = data["environments"][nx.server.host]
    assert env["api_url"] == nx.server.api_url
    session = env["session"]
    assert session["access_token"] == nx.server.issued[-1]
    assert session["source"] == "service_key"
    assert session["expires_estimated"] is False
    assert 1190 <= session["expires_at"] - time.time() <= 1200
    assert session["user"] == DEFAULT_USER and session["org"] == DEFAULT_ORG

    assert result.stdout == ""
    assert f"Added environment {nx.server.host}." in result.stderr
    assert "Minted" in result.stderr
    # Without --save-key the key is written nowhere, nor shown.
    assert "saved_key" not in env
    assert config_contains(nx, ODD_KEY) == []
    assert ODD_KEY not in result.stderr


def test_print_and_json(nx):
    printed = from_key(nx, "svc-print", "--print")
    assert printed.returncode == 0, describe(printed)
    assert printed.stdout == nx.server.issued[-1] + "\n"

    as_json = from_key(nx, "svc-json", "--json")
    assert as_json.returncode == 0, describe(as_json)
    body = json.loads(as_json.stdout)
    assert body["access_token"] == stored_session(nx)["access_token"] == nx.server.issued[-1]
    assert body["environment"] == nx.server.host
    assert body["user"] == DEFAULT_USER

    both = from_key(nx, "svc-json", "--json", "--print")
    assert both.returncode == 2, describe(both)
    assert nx.server.count("POST", "/token") == 2


def test_key_file_wins_over_the_variable(nx, tmp_path):
    nx.server.add_service_key("svc-from-file")
    key_file = tmp_path / "key.txt"
    key_file.write_text("svc-from-file\n")
    env = nx.env_with(NEXLA_SERVICE_KEY="svc-from-variable")
    nx.ok("token", "from-key", "--env", nx.server.host, "--key-file", key_file, env=env)
    assert nx.server.last("POST", "/token").authorization == "Basic svc-from-file"


def test_key_file_dash_reads_stdin(nx):
    nx.server.add_service_key("svc-stdin")
    nx.ok("token", "from-key", "--env", nx.server.host, "--key-file", "-", input="\nsvc-stdin\n")
    assert nx.server.last("POST", "/token").authorization == "Basic svc-stdin"


def test_unreadable_key_file_is_a_usage_error(nx, tmp_path):
    result = nx.fails(
        2, "token", "from-key", "--env", nx.server.host, "--key-file", tmp_path / "missing"
    )
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr
    assert nx.server.count() == 0
    assert config_bytes(nx) == {}


def test_piped_stdin_is_read_when_the_variable_is_unset(nx):
    nx.server.add_service_key("svc-piped")
    nx.ok("token", "from-key", "--env", nx.server.host, input="svc-piped\n")
    assert nx.server.last("POST", "/token").authorization == "Basic svc-piped"


def test_the_key_is_never_a_command_line_argument(nx):
    nx.server.add_service_key("svc-arg")
    for args in (["svc-arg"], ["--key", "svc-arg"]):
        nx.fails(2, "token", "from-key", "--env", nx.server.host, *args)
    assert nx.server.count() == 0


@pytest.mark.parametrize("value", ["", "   ", "two words", "k\u00e9y\u20ac"])
def test_empty_or_malformed_key_is_a_usage_error(nx, value):
    result = from_key(nx, value, register=False)
    assert result.returncode == 2, describe(result)
    assert nx.server.count() == 0
    assert config_bytes(nx) == {}


def test_rejected_key_exits_4_and_changes_nothing(nx):
    nx.sign_in()
    before = config_bytes(nx)
    result = from_key(nx, "svc-wrong", register=False)
    assert result.returncode == 4, describe(result)
    assert "rejected" in result.stderr
    assert result.stdout == ""
    assert config_bytes(nx) == before

    # A new environment named by a rejected key is not added either.
    other = f"localhost:{nx.server.port}"
    env = nx.env_with(NEXLA_SERVICE_KEY="svc-wrong")
    nx.fails(4, "token", "from-key", "--env", other, env=env)
    assert config_bytes(nx) == before


def test_rejected_key_on_a_fresh_machine_creates_nothing(nx):
    result = from_key(nx, "svc-wrong", register=False)
    assert result.returncode == 4, describe(result)
    assert not nx.config_dir.exists()


def test_environment_from_nexla_env_is_added_but_not_made_current(nx):
    nx.sign_in()
    other = f"localhost:{nx.server.port}"
    nx.server.add_service_key("svc-other")
    env = nx.env_with(NEXLA_ENV=other, NEXLA_SERVICE_KEY="svc-other")
    result = nx.ok("token", "from-key", env=env)
    data = read_store(nx.config_dir)
    assert data["current"] == nx.server.host
    assert data["environments"][other]["api_url"] == f"https://{other}/nexla-api"
    assert data["environments"][other]["session"]["access_token"] == nx.server.issued[-1]
    assert f"Added environment {other}." in result.stderr


def test_no_environment_named_anywhere_is_a_configuration_error(nx):
    nx.server.add_service_key("svc-x")
    result = nx.fails(3, "token", "from-key", env=nx.env_with(NEXLA_SERVICE_KEY="svc-x"))
    assert "--env" in result.stderr
    assert nx.server.count() == 0


def expired_everywhere(nx):
    """Expire the stored session on the server, and return a clock for runs that is past its
    stored expiry: what waiting for the end of a short session gave, without the wait."""
    session = stored_session(nx)
    nx.server.expire(session["access_token"])
    return lambda: session["expires_at"] + 1


def test_save_key_stores_it_0600_and_remints_after_expiry(nx):
    result = from_key(nx, ODD_KEY, "--save-key")
    assert result.returncode == 0, describe(result)
    path = nx.config_dir / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_store(nx.config_dir)["environments"][nx.server.host]["saved_key"] == {
        "in": "file",
        "key": ODD_KEY,
    }
    assert ODD_KEY not in result.stderr
    first = stored_session(nx)["access_token"]

    later = expired_everywhere(nx)
    printed = nx.ok("token", "print", clock=later)
    new = printed.stdout.strip()
    assert new != first and nx.server.is_valid(new)
    # Expired with a saved key: minted straight away, no refresh of a dead token.
    assert nx.server.count("POST", "/token/refresh") == 0
    assert nx.server.count("POST", "/token") == 2
    assert nx.server.last("POST", "/token").authorization == f"Basic {ODD_KEY}"
    assert stored_session(nx)["access_token"] == new


def test_without_save_key_an_expired_session_is_not_reminted(nx):
    assert from_key(nx, "svc-unsaved").returncode == 0
    assert config_contains(nx, "svc-unsaved") == []
    later = expired_everywhere(nx)
    printed = nx.fails(4, "token", "print", clock=later)
    assert printed.stdout == ""
    assert "nexla env login" in printed.stderr
    # The refresh was tried (the server settles it) and refused; nothing was minted.
    assert nx.server.count("POST", "/token/refresh") == 1
    assert nx.server.count("POST", "/token") == 1


def test_a_different_key_of_the_same_identity_without_save_key_keeps_the_saved_one(nx):
    # Both keys are the same user's in the same org (README, "Several orgs"): the saved
    # one is that identity's own and stays; the other is used once and never stored.
    assert from_key(nx, "svc-first", "--save-key").returncode == 0
    result = from_key(nx, "svc-second")
    assert result.returncode == 0, describe(result)
    record = read_store(nx.config_dir)["environments"][nx.server.host]
    assert record["saved_key"] == {"in": "file", "key": "svc-first"}
    assert "other_identities" not in record
    assert config_contains(nx, "svc-second") == []


def test_a_key_of_another_org_leaves_the_first_orgs_key_and_session(nx):
    assert from_key(nx, "svc-first", "--save-key").returncode == 0
    first = read_store(nx.config_dir)["environments"][nx.server.host]["session"]
    nx.server.add_service_key("svc-globex", org={"id": 8, "name": "Globex"})
    result = from_key(nx, "svc-globex", register=False)
    assert result.returncode == 0, describe(result)
    assert "Added ada@example.com in Globex (org 8)" in result.stderr
    record = read_store(nx.config_dir)["environments"][nx.server.host]
    assert record["session"]["org"]["id"] == 8 and "saved_key" not in record
    [kept] = record["other_identities"]
    assert kept == {"session": first, "saved_key": {"in": "file", "key": "svc-first"}}


def test_pasting_a_token_of_the_same_identity_keeps_the_saved_key(nx):
    assert from_key(nx, "svc-kept", "--save-key").returncode == 0
    nx.sign_in_with_cli()
    record = read_store(nx.config_dir)["environments"][nx.server.host]
    assert record["saved_key"] == {"in": "file", "key": "svc-kept"}
    assert record["session"]["source"] == "pasted"


def test_from_key_into_a_corrupt_store_sets_it_aside(nx):
    nx.config_dir.mkdir(mode=0o700)
    (nx.config_dir / "credentials.json").write_text("{not json")
    result = from_key(nx, "svc-recover")
    assert result.returncode == 0, describe(result)
    kept = [name for name in os.listdir(nx.config_dir) if ".corrupt-" in name]
    assert len(kept) == 1 and kept[0] in result.stderr
    assert stored_session(nx)["access_token"] == nx.server.issued[-1]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_config_dir_and_files_are_private(nx):
    assert from_key(nx, "svc-private", "--save-key").returncode == 0
    assert stat.S_IMODE(nx.config_dir.stat().st_mode) == 0o700
    for path in nx.config_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_no_key_anywhere_in_a_job_says_where_to_put_it(nx):
    # stdin is /dev/null, as under cron: nothing to read, and nothing to prompt on.
    result = nx.fails(2, "token", "from-key", "--env", nx.server.host)
    assert "NEXLA_SERVICE_KEY" in result.stderr and "--key-file" in result.stderr
    assert nx.server.count() == 0
