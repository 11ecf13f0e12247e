"""Decode: frames/s of the pipeline's decode stage (its Ray actor pool, one pass for shots +
samples, resize in the decoder) ÷ `ffmpeg -threads N -f null` on the same 1080p file and cores.
The result also gives each decode actor's busy fraction: a ratio that halves on another machine
says whether the pool ran its shards at once (every actor near 1) or one after the other."""

from __future__ import annotations

import os
import subprocess
import time

from benchmarks.media import hd_file
from dam.config import Settings
from dam.datasets.pipeline import StageClock, _decoded, start_together
from dam.datasets.shards import plan_job
from dam.media.hashing import asset_id, content_hash
from dam.media.probe import probe
from dam.runtime.start import ensure_ray
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


def busy_lists(fractions: dict[str, dict[str, float]]) -> dict[str, list[float]]:
    """stage -> its actors' busy fractions, busiest first (process ids mean nothing in a result file)."""
    return {stage: sorted(per.values(), reverse=True) for stage, per in fractions.items()}


def run(seconds: int = 120) -> dict:
    path = hd_file(seconds)
    cores = os.cpu_count() or 1
    frames = probe(path).video.frame_count
    settings = Settings(decode_concurrency=cores)  # default shards (60 s) and one decoder thread per actor
    ensure_ray(settings)
    shards = plan_job([asset_for(path)], settings.shard_seconds, cores)

    def pipeline() -> tuple[float, dict[str, list[float]]]:
        """The decode pool exactly as run_shards builds it on CPUs (its start-up included)."""
        clock = StageClock()
        t0 = time.perf_counter()
        ds = start_together(_decoded(settings, shards, 1.0, 0, room=True), settings)
        # Whole rows, as run_shards hands them on: a select_columns here ran as one more task whose
        # worker started only after the last shard was decoded (+2.1 s of a 49 s run, 0.04 of the ratio).
        for row in ds.iter_rows():
            clock.add(row)
        fps = frames / (time.perf_counter() - t0)
        return fps, busy_lists(clock.fractions())

    pipeline()  # warm: the file cache is not what we measure
    # The best of two runs each: on a shared machine the least disturbed run is closest to what the
    # cores can do (the best *pair* was not: it picked the pair whose ffmpeg run met a load spike,
    # 1.63x at load average 30). The load average is recorded with the result.
    ours, busy = max((pipeline() for _ in range(2)), key=lambda r: r[0])
    ref = max(ffmpeg_fps(path, cores, frames) for _ in range(2))
    return {"file": f"1920x1080 H.264, {seconds}s @30fps", "cores": cores, "decoder": settings.decoder,
            "shards": len(shards), "actors": len(busy.get("decode", [])), "pipeline_fps": round(ours, 1),
            "ffmpeg_fps": round(ref, 1), "ratio": round(ours / ref, 3), "busy": busy,
            "load_average": round(os.getloadavg()[0], 1)}
