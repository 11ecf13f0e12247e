"""Decode: frames/s of the pipeline's decode stage (Ray actors, decord, resize in decoder, one
pass for shots + samples) ÷ `ffmpeg -threads N -f null` on the same 1080p file and cores."""

from __future__ import annotations

import os
import subprocess
import time

import ray
from ray.data import ActorPoolStrategy

from benchmarks.media import hd_file
from dam.config import Settings
from dam.datasets.pipeline import _bind, ensure_ray
from dam.datasets.shards import plan_shards
from dam.datasets.stages import DecodeShard
from dam.media.hashing import asset_id, content_hash
from dam.media.probe import probe
from dam.schema import Asset


def asset_for(path) -> Asset:
    from datetime import datetime, timezone

    info = probe(path)
    return Asset(id=asset_id(content_hash(path)), path=str(path), name=path.name, kind="video",
                 content_hash="", size=info.size, mtime=0, status="new", info=info, added_at=datetime.now(timezone.utc))


def ffmpeg_fps(path, threads: int, frames: int) -> float:
    t0 = time.perf_counter()
    subprocess.run(["ffmpeg", "-v", "error", "-threads", str(threads), "-i", str(path), "-an", "-f", "null", "-"],
                   check=True)
    return frames / (time.perf_counter() - t0)


def run(seconds: int = 120) -> dict:
    path = hd_file(seconds)
    cores = os.cpu_count() or 1
    info = probe(path)
    frames = info.video.frame_count
    settings = Settings(decode_concurrency=cores)  # default shards (60 s) and one decord thread per actor
    ensure_ray(settings)
    shards = plan_shards(asset_for(path), settings.shard_seconds)
    conf = settings.model_dump(mode="json")

    def pipeline_fps() -> float:
        t0 = time.perf_counter()
        ds = ray.data.from_items(shards, override_num_blocks=len(shards))
        ds = ds.map(_bind(DecodeShard, conf), num_cpus=1, compute=ActorPoolStrategy(size=cores))
        got = sum(1 for r in ds.select_columns(["shard"]).iter_rows())
        assert got == len(shards)
        return frames / (time.perf_counter() - t0)

    pipeline_fps()  # warm: actor start-up and file cache are not what we measure
    ours = max(pipeline_fps() for _ in range(2))
    ref = max(ffmpeg_fps(path, cores, frames) for _ in range(2))
    return {"file": f"1920x1080 H.264, {seconds}s @30fps", "cores": cores, "pipeline_fps": round(ours, 1),
            "ffmpeg_fps": round(ref, 1), "ratio": round(ours / ref, 3)}
