"""The decode pool works in parallel: every actor of a pool gets shards from the first one on,
proven by the work intervals each shard's row records (process id, start, end), not by timing."""

import json
import os
import subprocess
import sys

import pytest
from conftest import make_settings

from dam.samples import Shot, make_video

# 24 s at 25 fps: two 12 s shards of 300 frames, each several times longer to decode than the
# dispatch of the second one takes.
SHOTS = [Shot("testsrc", 8), Shot("bars", 8), Shot("cells", 8)]


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    root = tmp_path_factory.mktemp("pool")
    make_video(root / "Footage" / "two_shards.mp4", SHOTS, fps=25, size=(480, 270))
    return root / "Footage"


def test_two_shards_are_decoded_at_once_by_two_actors(footage, ray_cluster, tmp_path):
    from dam.datasets.pipeline import run_shards
    from dam.datasets.shards import plan_job
    from dam.library import Library

    settings = make_settings(tmp_path, decode_concurrency=2, shard_seconds=12)
    lib = Library(settings)
    lib.scan(footage, implicit_root=True)
    shards = plan_job([lib.asset(str(footage / "two_shards.mp4"))], settings.shard_seconds, 2)
    assert len(shards) == 2
    rows = sorted(run_shards(settings, shards), key=lambda r: r["shard"])
    lib.close()
    assert [r["error"] for r in rows] == ["", ""]
    (pid_a, a0, a1), (pid_b, b0, b1) = [(r["decode_pid"], r["decode_started"], r["decode_ended"]) for r in rows]
    assert pid_a != pid_b, "one decode actor decoded both shards"
    assert a0 < b1 and b0 < a1, f"decode intervals do not overlap: {a0:.2f}-{a1:.2f} and {b0:.2f}-{b1:.2f}"


def test_a_short_file_gives_every_decode_actor_work_through_dam_ingest(footage, tmp_path):
    """Default settings (60 s shards, a decode pool of at least two): the 24 s file still becomes
    two shards or more, and the report's busy figures show every decode actor working."""
    env = {**os.environ, "DAM_DATA_DIR": str(tmp_path / "data")}
    for knob in ("DAM_SHARD_SECONDS", "DAM_DECODE_CONCURRENCY"):
        env.pop(knob, None)
    r = subprocess.run([sys.executable, "-m", "dam.cli", "ingest", str(footage), "--json"], capture_output=True,
                       text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["indexed"] == 1
    decode = report["busy"]["decode"]
    assert len(decode) >= 2 and all(0 < f <= 1 for f in decode.values()), report["busy"]
    assert set(report["busy"]) == {"decode", "shots", "embed"}


SIZE_OF_THE_POOL = """
import ray
from dam.config import Settings
from dam.runtime.start import decode_actors
ray.init(address="local", num_cpus={cpus}, include_dashboard=False, logging_level="ERROR")
print(decode_actors(Settings()), decode_actors(Settings(decode_concurrency=3)))
"""


def test_the_decode_pool_fills_the_cores_unless_told_its_size():
    """On a 16-CPU node, one decoder per free CPU less one for the model actors (a fixed 2 left
    12 of its cores idle); DAM_DECODE_CONCURRENCY still decides. On 2 CPUs the floor of two
    decoders is what `dam ingest` above runs with."""
    r = subprocess.run([sys.executable, "-c", SIZE_OF_THE_POOL.format(cpus=16)], capture_output=True, text=True,
                       timeout=300, env={k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"})
    assert r.returncode == 0 and r.stdout.strip().splitlines()[-1:] == ["15 3"], r.stderr[-2000:]
