"""Where `nexla env` keeps things: file modes whatever the umask, a corrupt store, order of
the logout steps as seen in the file."""

import os

import pytest

from tests.support.outcomes import assert_clean_error
from tests.support.signing_in import configure, second_name, seed_configured
from tests.support.stores import mode, read_store, store_bytes, store_path


def test_a_wider_existing_config_dir_is_tightened(nx):
    nx.config_dir.mkdir(mode=0o755)
    os.chmod(nx.config_dir, 0o755)
    configure(nx, nx.server.host, nx.server.issue_token())
    assert mode(nx.config_dir) == 0o700
    assert mode(store_path(nx.config_dir)) == 0o600


def test_a_group_readable_store_draws_a_warning(nx):
    seed_configured(nx, nx.server.host, nx.server.issue_token())
    os.chmod(store_path(nx.config_dir), 0o644)
    result = nx.ok("env", "list")
    assert "warning:" in result.stderr
    assert str(store_path(nx.config_dir)) in result.stderr
    assert "chmod 600" in result.stderr


# --- a corrupt store ------------------------------------------------------------------------

CORRUPT = b'{"version": 2, "current": "x", "environments": {"x": {"api_url": "https://x", '


def write_corrupt_store(nx, content: bytes = CORRUPT) -> None:
    nx.config_dir.mkdir(mode=0o700, exist_ok=True)
    store_path(nx.config_dir).write_bytes(content)
    os.chmod(store_path(nx.config_dir), 0o644)  # as a hand edit might leave it


def set_aside_files(nx):
    return sorted(nx.config_dir.glob("credentials.json.corrupt-*"))


@pytest.mark.parametrize(
    "args",
    [
        ("env", "list"),
        ("env", "list", "--json"),
        ("env", "show"),
        ("env", "show", "--env", "x.example"),
        ("env", "use", "x.example"),
    ],
)
def test_reading_commands_refuse_a_corrupt_store_and_leave_it_alone(nx, args):
    write_corrupt_store(nx)
    result = nx.run(*args)
    assert_clean_error(result, 3, str(store_path(nx.config_dir)))
    assert result.stdout == ""
    assert store_bytes(nx.config_dir) == CORRUPT
    assert set_aside_files(nx) == []


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b"[]", b'{"environments": {}}', b"\xff\xfe", b'{"version": 2}'],
)
def test_every_kind_of_unparseable_store_is_refused_by_env_list(nx, content):
    write_corrupt_store(nx, content)
    result = nx.run("env", "list")
    assert_clean_error(result, 3, str(store_path(nx.config_dir)))
    assert store_bytes(nx.config_dir) == content


def test_a_store_from_a_newer_version_is_refused_not_set_aside(nx):
    newer = b'{"version": 99, "current": null, "environments": {}}'
    write_corrupt_store(nx, newer)
    for args in (("env", "list"), ("env", "configure", nx.server.host, "--with-token")):
        result = nx.run(*args, input=nx.server.issue_token() + "\n")
        assert_clean_error(result, 3, "newer")
        assert store_bytes(nx.config_dir) == newer
    assert set_aside_files(nx) == []
    assert nx.server.count() == 0


def assert_set_aside(nx, result):
    """The corrupt file was moved, kept byte for byte at 0600, and the message names it."""
    kept = set_aside_files(nx)
    assert len(kept) == 1, result.stderr
    assert kept[0].read_bytes() == CORRUPT
    assert mode(kept[0]) == 0o600
    assert str(kept[0]) in result.stderr
    assert "Traceback" not in result.stderr


def test_configure_sets_a_corrupt_store_aside_and_starts_afresh(nx):
    write_corrupt_store(nx)
    token = nx.server.issue_token()
    result = nx.ok("env", "configure", nx.server.host, "--with-token", input=token + "\n")
    assert_set_aside(nx, result)
    data = read_store(nx.config_dir)
    assert list(data["environments"]) == [nx.server.host]
    assert data["current"] == nx.server.host
    assert mode(store_path(nx.config_dir)) == 0o600


def test_login_sets_a_corrupt_store_aside(nx):
    write_corrupt_store(nx)
    result = nx.run("env", "login", "--with-token", input=nx.server.issue_token() + "\n")
    # Nothing is left to log in to: the environments were in the unreadable file.
    assert_clean_error(result, 3, "nexla env configure")
    assert_set_aside(nx, result)
    assert nx.server.count() == 0


def test_logout_sets_a_corrupt_store_aside(nx):
    write_corrupt_store(nx)
    result = nx.ok("env", "logout", "--all")
    assert_set_aside(nx, result)
    assert read_store(nx.config_dir)["environments"] == {}


def test_logout_of_one_environment_sets_a_corrupt_store_aside(nx):
    write_corrupt_store(nx)
    result = nx.run("env", "logout", "--env", "x")
    assert_clean_error(result, 3, "unknown environment")
    assert_set_aside(nx, result)


def test_remove_sets_a_corrupt_store_aside(nx):
    write_corrupt_store(nx)
    result = nx.run("env", "remove", "x")
    assert_clean_error(result, 3, "unknown environment: x")
    assert_set_aside(nx, result)


def test_a_rejected_token_after_setting_aside_still_keeps_the_old_file(nx):
    write_corrupt_store(nx)
    result = nx.run("env", "configure", nx.server.host, "--with-token", input="tok-bogus\n")
    assert_clean_error(result, 4)
    assert_set_aside(nx, result)
    assert read_store(nx.config_dir)["environments"] == {}


# --- the order of a logout --------------------------------------------------------------------


def test_logout_all_leaves_no_token_of_any_environment(nx):
    other = second_name(nx)
    tokens = [nx.server.issue_token(), nx.server.issue_token()]
    seed_configured(nx, nx.server.host, tokens[0])
    seed_configured(nx, other, tokens[1])
    assert nx.run("env", "logout", "--all").returncode == 0
    content = store_bytes(nx.config_dir) or b""
    assert all(token.encode() not in content for token in tokens)
    assert not any(nx.server.is_valid(token) for token in tokens)
