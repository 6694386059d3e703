"""The runner behind `nexla env list --check` (docs/scripting.md, "Checking every
environment"): environments.all_at_once runs every check at once, up to a limit, and hands
back the results in the order of the environments, raising what a check raised."""

from __future__ import annotations

import threading
import time

import pytest

from nexla_cli.auth.environments import all_at_once


def test_results_come_back_in_the_order_of_the_items():
    # The first item finishes last: the order is the items', not the finishing order.
    def work(item: int) -> int:
        time.sleep(0.05 * (5 - item))
        return item * 10

    assert all_at_once(work, [0, 1, 2, 3, 4], limit=256) == [0, 10, 20, 30, 40]


def test_no_more_than_the_limit_run_at_once():
    running, most = [0], [0]
    lock = threading.Lock()

    def work(item: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return item

    assert all_at_once(work, list(range(30)), limit=4) == list(range(30))
    assert most[0] == 4


def test_an_exception_in_a_call_is_raised_to_the_caller():
    def work(item: int) -> int:
        if item == 2:
            raise ValueError("item 2")
        return item

    with pytest.raises(ValueError, match="item 2"):
        all_at_once(work, [0, 1, 2, 3], limit=256)
