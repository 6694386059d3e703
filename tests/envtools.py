"""Small helpers shared by the `nexla env` tests: reading the store, checking outputs."""

import json
import os
import stat
from pathlib import Path

STORE_NAME = "credentials.json"


def store_path(nx) -> Path:
    return Path(nx.config_dir) / STORE_NAME


def read_store(nx) -> dict:
    return json.loads(store_path(nx).read_text())


def store_bytes(nx) -> bytes:
    """The store file's exact bytes, or b"" when there is none."""
    path = store_path(nx)
    return path.read_bytes() if path.exists() else b""


def env_record(nx, name: str) -> dict:
    return read_store(nx)["environments"][name]


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def second_name(nx) -> str:
    """A second environment on the same fake server: `localhost:PORT` (the certificate covers
    both names), so two environments can be configured against one server."""
    return f"localhost:{nx.server.port}"


def configure(nx, name: str, token: str, *extra: str, env=None):
    """`nexla env configure NAME --with-token` with the token on stdin; must succeed."""
    result = nx.run("env", "configure", name, "--with-token", *extra, input=token + "\n", env=env)
    assert result.returncode == 0, result.stderr
    return result


def assert_clean_error(result, code: int, *fragments: str) -> None:
    """Exit `code`, one `error:` line (plus an optional hint) on stderr, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
