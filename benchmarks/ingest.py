"""Ingest: video seconds indexed per wall second by the whole pipeline (decode, shots, embed,
write L0–L3) ÷ `ray.data.read_videos` merely reading the same files. The result also gives each
stage's actors with their busy fraction of the L1/L2 run (the ingest report's `busy`).

The reference runs before and after dam and the ratio uses their mean: measured once, after dam,
it swung 1.87-2.27 video s per s over three runs on one machine while dam held 1.67-1.74."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import ray

from benchmarks.decode import busy_lists
from benchmarks.media import hd_shots
from dam.config import Settings
from dam.library import Library
from dam.media.probe import probe
from dam.runtime.start import ensure_ray


def run(count: int = 3) -> dict:
    files = hd_shots(count)
    video_seconds = sum(probe(p).duration for p in files)
    cores = os.cpu_count() or 1
    ensure_ray(Settings())

    def reference() -> tuple[int, float]:
        t0 = time.perf_counter()
        rows = ray.data.read_videos([str(p) for p in files]).count()
        return rows, video_seconds / (time.perf_counter() - t0)

    rows, before = reference()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", decode_concurrency=cores, shard_seconds=30)
        lib = Library(settings)
        t0 = time.perf_counter()
        report = lib.ingest(files, implicit_root=True)
        ours = video_seconds / (time.perf_counter() - t0)
        assert report.indexed == len(files), report.errors
        lib.close()
    _, after = reference()
    ref = (before + after) / 2
    return {"files": f"{len(files)} × 1920x1080 H.264 25 fps", "cores": cores, "encoder": settings.encoder,
            "decoder": settings.decoder, "video_seconds": round(video_seconds, 1), "frames_read_by_reference": rows,
            "dam_video_s_per_s": round(ours, 2), "read_videos_video_s_per_s": round(ref, 2),
            "read_videos_before_after": [round(before, 2), round(after, 2)],
            "ratio": round(ours / ref, 2), "busy": busy_lists(report.busy), "load_average": round(os.getloadavg()[0], 1)}
