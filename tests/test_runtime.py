"""dam.runtime.fan_out, the one way per-file work spreads over Ray: every item comes back once,
paired with its own result, whether the work is a task per item or a pool of actors that each
load once; a failure inside the work reaches the caller.

The work is defined inside each test so Ray ships it by value (this test module is not
importable on Ray's workers)."""

from __future__ import annotations

from functools import partial

import pytest

from dam.config import Settings
from dam.runtime.fanout import fan_out


def test_tasks_pair_each_item_with_its_result(ray_cluster):
    def square_plus(offset: int, item: int) -> int:
        return item * item + offset

    items = list(range(12))
    out = list(fan_out(Settings(), items, partial(square_plus, 5), cpus=0.5))
    assert sorted(i for i, _ in out) == items
    assert all(result == i * i + 5 for i, result in out)
    assert list(fan_out(Settings(), [], partial(square_plus, 5))) == []


def test_an_actor_pool_loads_once_per_actor_and_serves_every_item(ray_cluster):
    class Loaded:
        """Counts its own loads and calls: made once per actor, then called for many items."""

        def __init__(self, scale: int):
            import os

            self.scale, self.loads, self.calls, self.pid = scale, 1, 0, os.getpid()

        def __call__(self, item: str) -> tuple[str, int, int, int]:
            self.calls += 1
            return item * self.scale, self.loads, self.calls, self.pid

    items = [f"x{i}" for i in range(9)]
    out = dict(fan_out(Settings(), items, Loaded, workers=2, setup=(2,), retries=1))
    assert sorted(out) == items and all(v[0] == k * 2 for k, v in out.items())
    assert {v[1] for v in out.values()} == {1}  # never rebuilt per item
    pids = {v[3] for v in out.values()}
    assert len(pids) <= 2  # at most `workers` actors
    assert sum(max(v[2] for v in out.values() if v[3] == pid) for pid in pids) == len(items)


def test_a_failure_in_the_work_reaches_the_caller(ray_cluster):
    def fails(item: int) -> int:
        if item == 3:
            raise ValueError("item 3 is bad")
        return item

    with pytest.raises(ValueError, match="item 3 is bad"):
        list(fan_out(Settings(), [1, 2, 3, 4], fails, retries=0))
