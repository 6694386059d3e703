"""Secrets: tokens and keys appear only where the user asked for them.

- stdout carries a token only for `token print`, `--print` and the `--json` of `token refresh`
  and `token from-key`; stderr never, `--debug` included (every command is run with it).
- No option takes a token or key as its value (it would land in shell history and `ps`).
- On disk they live only in credentials.json; `env logout --all` leaves none behind, in any
  file under the config dir (the lock, temporary files of a killed writer).
- A server quoting the credential back in an error message does not get it printed.
"""

from __future__ import annotations

import json
import re

import pytest
import typer.main

from nexla_cli.cli.root import app
from tests.support.commands import (
    SECRET_WORDS,
    all_commands,
)
from tests.support.fake_nexla import Fault
from tests.support.outcomes import describe, warnings_in
from tests.support.signing_in import seed
from tests.support.stores import files_containing, stored_session

SERVICE_KEY = "svc-" + "s3cr3t" * 8


class Secrets:
    """Everything secret the test world has seen: every token the server issued, the key."""

    def __init__(self, nx):
        self.nx = nx

    def all(self) -> list[str]:
        return [*self.nx.server.issued, SERVICE_KEY]

    def assert_absent(self, text: str, where: str, allowed: str | None = None) -> None:
        for secret in self.all():
            if secret == allowed:
                continue
            assert secret not in text, f"a secret leaked to {where}:\n{text}"


def current_token(nx) -> str:
    return stored_session(nx)["access_token"]


# Each step: (args, stdin, extra env, what stdout may carry: None | "token" | "json-token")
def steps(nx):
    host = nx.server.host
    token = nx.server.issue_token
    return [
        (("env", "configure", host, "--with-token"), lambda: token(), {}, None),
        (("env", "list"), None, {}, None),
        (("env", "list", "--json"), None, {}, None),
        (("env", "show"), None, {}, None),
        (("env", "show", "--json"), None, {}, None),
        (("env", "show", "--check"), None, {}, None),
        (("env", "use", host), None, {}, None),
        (("env", "login", "--with-token"), lambda: token(), {}, None),
        (("token", "status"), None, {}, None),
        (("token", "status", "--json"), None, {}, None),
        (("token", "refresh"), None, {}, None),
        (("token", "refresh", "--json"), None, {}, "json-token"),
        (("token", "refresh", "--print"), None, {}, "token"),
        (("token", "print"), None, {}, "token"),
        (("token", "print"), None, {"NEXLA_REFRESH_MARGIN": "7200"}, "token"),  # refreshes
        (("token", "from-key"), None, {"NEXLA_SERVICE_KEY": SERVICE_KEY}, None),
        (("token", "from-key", "--save-key", "--json"), SERVICE_KEY, {}, "json-token"),
        (("token", "from-key", "--print"), SERVICE_KEY, {}, "token"),
        (("token", "print"), None, {"NEXLA_ACCESS_TOKEN": "tok-from-the-variable"}, "token"),
        (("env", "logout"), None, {}, None),
        (("env", "remove", host), None, {}, None),
    ]


def test_no_secret_on_screen_unless_asked_for_even_with_debug(nx):
    nx.server.add_service_key(SERVICE_KEY)
    secrets = Secrets(nx)
    network_commands = 0
    for args, stdin, variables, allowed in steps(nx):
        full = ("--debug", *args)
        given = stdin() if callable(stdin) else stdin
        before = nx.server.count()
        result = nx.run(*full, input=given, env=nx.env_with(**variables))
        assert result.returncode == 0, f"{args}\n{describe(result)}"
        secrets.assert_absent(result.stderr, f"stderr of {args}")
        expected = None
        if allowed:
            if "NEXLA_ACCESS_TOKEN" in variables:
                expected = variables["NEXLA_ACCESS_TOKEN"]
            else:
                expected = current_token(nx)
            if allowed == "token":
                assert result.stdout == expected + "\n", args
            else:
                assert json.loads(result.stdout)["access_token"] == expected, args
        secrets.assert_absent(result.stdout, f"stdout of {args}", allowed=expected)
        if nx.server.count() > before:
            # The check above only means something if the requests were really logged.
            network_commands += 1
            assert "debug: > " in result.stderr, args
            assert re.search(r"Authorization: (Bearer|Basic) \[redacted\]", result.stderr), args
    assert network_commands >= 8


def test_a_server_quoting_the_credential_does_not_get_it_printed(nx):
    token = seed(nx, lifetime=3600, age=3500)
    echo = {"message": f"token {token} is not allowed here", "error_code": 500}
    nx.server.add_fault("POST", "/token/refresh", Fault.status(500, echo), times=None)
    nx.server.add_fault(
        "GET", "/users/current", Fault.redirect(f"https://127.0.0.1:1/?t={token}"), times=None
    )
    for args in (("token", "refresh"), ("token", "print"), ("env", "show", "--check")):
        result = nx.run("--debug", *args, env=nx.env_with(NEXLA_REFRESH_MARGIN="7200"))
        assert result.returncode in (0, 5), describe(result)
        assert token not in result.stderr, describe(result)
        assert "[redacted]" in result.stderr


@pytest.mark.parametrize(
    "token",
    ["tok-abcdef\r\nX-Injected: 1", "tok-abcdef\nghijkl", "tok-abcdef\u2603ghijkl"],
    ids=["crlf", "lf", "non-ascii"],
)
def test_a_token_unfit_for_a_header_is_refused_without_quoting_it(nx, token):
    """A hand-edited store (a damaged file: exit 3 naming it, docs/storage.md) or a bad
    NEXLA_ACCESS_TOKEN (exit 2): one line, the token never echoed."""
    seed(nx, token=token)
    for args, variables, code in (
        (("env", "show", "--check"), {}, 3),
        (("token", "refresh"), {}, 3),
        (("env", "show", "--check"), {"NEXLA_ACCESS_TOKEN": token}, 2),
    ):
        result = nx.run("--debug", *args, env=nx.env_with(**variables))
        assert result.returncode == code, describe(result)
        if code == 3:
            assert "credentials.json" in result.stderr
        assert "Traceback" not in result.stderr
        for part in re.split(r"[\r\n]", token):
            if len(part) > 4:
                assert part not in result.stderr, describe(result)
        assert nx.server.count() == 0


# ---- no option takes a secret --------------------------------------------------------------


def test_help_of_every_command_offers_no_secret_valued_option(nx):
    root = typer.main.get_command(app)
    commands = [path for path, command in all_commands(root) if not hasattr(command, "commands")]
    assert len(commands) >= 11
    for path in commands:
        result = nx.ok(*path, "--help")
        for match in re.finditer(r"(--[\w-]+)(?:[ =]([A-Z][A-Z_]*))?", result.stdout):
            option, metavar = match.groups()
            if metavar and SECRET_WORDS.search(option):
                assert (option, metavar) == ("--key-file", "PATH"), (path, match.group(0))


# ---- secrets on disk -----------------------------------------------------------------------


def test_secrets_live_only_in_credentials_json_and_logout_leaves_none(nx):
    nx.server.add_service_key(SERVICE_KEY)
    key_file = nx.tmp_path / "service.key"
    key_file.write_text(SERVICE_KEY + "\n")
    nx.sign_in()
    for args in (
        ("token", "refresh"),
        ("token", "from-key", "--save-key", "--key-file", str(key_file)),
        ("token", "print"),
        ("env", "show", "--check"),
    ):
        nx.ok(*args)
    secrets = [*nx.server.issued, SERVICE_KEY]

    found = files_containing(nx.tmp_path, *secrets)
    found.pop("service.key")  # the user's own key file
    assert list(found) == ["config/credentials.json"], found
    assert SERVICE_KEY in found["config/credentials.json"]

    # A writer killed mid-write leaves a temporary file holding tokens; logout clears it too.
    leftover = nx.config_dir / ".credentials.killed.tmp"
    leftover.write_text((nx.config_dir / "credentials.json").read_text())
    leftover.chmod(0o600)

    nx.ok("env", "logout", "--all")
    left = files_containing(nx.tmp_path, *secrets)
    assert list(left) == ["service.key"], left
    assert not leftover.exists()


def test_logout_names_kept_aside_files_that_may_still_hold_tokens(nx):
    token = nx.sign_in()
    kept = nx.config_dir / "credentials.json.corrupt-20250101T000000"
    kept.write_text('{"half a file": "' + token)
    kept.chmod(0o600)
    result = nx.ok("env", "logout", "--all")
    (warning,) = warnings_in(result)
    assert str(kept) in warning and "delete it" in warning
    assert token not in result.stderr
    assert kept.exists(), "kept files are the user's to delete"
