"""Size is bounded whatever a server sends (docs/network.md, "Size limits"), in-process: a
session endpoint's answer of exactly 1 MiB is taken and one byte more is exit 5 with nothing
stored. Bombs and memory, measured on a real process, are in tests/e2e/test_network_size.py.
"""

from __future__ import annotations

import json

from tests.support.fake_nexla import Fault
from tests.support.signing_in import seed
from tests.support.stores import stored_session

MIB = 1024 * 1024


def due(nx) -> str:
    return seed(nx, lifetime=3600, age=3540)


def test_a_token_answer_just_under_1_mib_is_accepted_and_just_over_is_not(nx):
    due(nx)
    new = nx.server.issue_token()
    answer = {"access_token": new, "token_type": "Bearer", "expires_in": 3600, "pad": ""}
    room = MIB - len(json.dumps(answer))
    answer["pad"] = "p" * room  # exactly 1 MiB
    nx.server.add_fault("POST", "/token/refresh", Fault.body(200, json.dumps(answer)))
    nx.ok("token", "refresh")
    assert stored_session(nx)["access_token"] == new

    due(nx)
    answer["access_token"] = nx.server.issue_token()
    answer["pad"] += "p"  # one byte more
    nx.server.add_fault("POST", "/token/refresh", Fault.body(200, json.dumps(answer)))
    nx.fails(5, "token", "refresh")
    stored = stored_session(nx)
    assert stored["access_token"] != answer["access_token"]
