"""Backfills on a real three-node local Ray cluster, with faults: a stage actor's process killed
and a worker node removed (in one run), the driver killed and resubmitted. Each run must end exactly like the
uninterrupted one (same asset ids, same L1/L2 counts, same vectors) and pass `dam check`."""

from __future__ import annotations

import pytest
from cluster_script import run_cluster_script

from dam.samples import Shot, make_video

pytestmark = pytest.mark.timeout(1500)  # minutes of real cluster work on a 2-core machine


@pytest.fixture(scope="module")
def seen(tmp_path_factory) -> dict:
    """Runs tests/backfill_cluster_check.py in its own process (this session already has a Ray)."""
    work = tmp_path_factory.mktemp("backfill-cluster")
    footage = work / "footage"
    size = (192, 108)
    make_video(footage / "a.mp4", [Shot("testsrc", 2), Shot("bars", 2), Shot("mandelbrot", 2)], size=size)
    make_video(footage / "b.mp4", [Shot("sierpinski", 3), Shot("gradients", 3)], size=size)
    make_video(footage / "c.mp4", [Shot("rgb", 2), Shot("cells", 2), Shot("sunset", 2)], size=size)
    return run_cluster_script("backfill_cluster_check.py", footage, work, timeout=1400)


def same_as_baseline(seen: dict, run: dict) -> None:
    assert run["ok"], run["problems"]
    assert run["pending"] == [] and run["failed"] == []
    assert run["assets"] == seen["baseline"]["assets"]  # names -> (id, status, L1 count, L2 count)
    assert run["vectors"] == seen["baseline"]["vectors"]  # per collection: nothing lost, nothing twice


def test_an_uninterrupted_backfill_runs_decode_and_embed_on_both_workers(seen):
    base = seen["baseline"]
    assert base["ok"], base["problems"]
    assert base["indexed"] == 3 and all(a[1] == "indexed" and a[2] > 0 for a in base["assets"].values())
    workers = set(seen["workers"])
    nodes = base["report"]["nodes"]
    assert set(nodes["decode"]) == workers and set(nodes["embed"]) == workers  # never the CPU-less head
    assert seen["head"] not in nodes["decode"] + nodes["embed"]


def test_a_stage_process_killed_and_then_a_worker_node_removed_mid_backfill_cost_nothing(seen):
    run = seen["faults"]
    assert "MapWorker" in run["fired"]["kill_worker"]["name"]  # a stage actor's process was SIGKILLed
    assert run["fired"]["kill_node"]["stage_actors_there"] > 0  # the removed node really was doing the work
    assert run["shards_after"] > 0  # and the backfill went on after both
    assert run["report"]["errors"] == [] and run["report"]["indexed"] == 3
    same_as_baseline(seen, run)


def test_a_killed_driver_resubmitted_skips_finished_assets_and_ends_exactly_once(seen):
    run = seen["driver"]
    assert run["first_rc"] == -9, run["first_log"]  # it was killed, it did not end by itself
    assert 0 < run["indexed_at_kill"] < run["total"] == 3
    assert run["catalog_mode"] == "actor"  # RAY_ADDRESS alone put the driver on the head's catalog actor
    assert run["jobs"] == ["done", "interrupted"]  # the killed driver's job is not left "running"
    report = run["report"]
    assert run["rc"] == 0 and report["errors"] == []
    assert report["unchanged"] >= run["indexed_at_kill"] and report["unchanged"] + report["indexed"] == 3
    same_as_baseline(seen, run)
