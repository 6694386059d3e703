"""A refresh already sent is stored even while another process holds credentials.json open
on Windows (docs/portability.md), in-process with Windows simulated: os.replace refuses
twice with a sharing violation (winerror 32), as it does while an antivirus scanner reads
the file. The unit tier (tests/unit/test_windows_replace.py) has the rule itself.
"""

from __future__ import annotations

import os

from nexla_cli.storage import store as store_module
from tests.support.other_systems import simulate, windows_refusal
from tests.support.stores import stored_session


def test_a_refresh_is_stored_through_a_passing_sharing_violation(nx, monkeypatch):
    nx.sign_in()
    real_replace = os.replace
    calls: list[str] = []

    def held_open_twice(source, target):
        calls.append(str(target))
        if len(calls) <= 2:
            raise windows_refusal(32)
        real_replace(source, target)

    simulate(monkeypatch, "win32")
    monkeypatch.setattr(os, "replace", held_open_twice)
    monkeypatch.setattr(store_module.time, "sleep", lambda seconds: None)
    # The fake server's host is exempt from proxies, so that the registry (Windows' own
    # proxy settings, not on Linux) is never asked.
    hostname = nx.server.host.rsplit(":", 1)[0]
    nx.ok("token", "refresh", env=nx.env_with(NO_PROXY=hostname))
    assert len(calls) == 3
    assert stored_session(nx)["access_token"] == nx.server.issued[-1]

