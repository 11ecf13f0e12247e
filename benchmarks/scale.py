"""Scale-out: backfill throughput on a local Ray cluster with 1, 2 and 4 worker nodes (scaling
efficiency), and peak memory per stage worker on a short and a long video (bounded: it must not
grow with the video's length).

Each "node" is a `ray.cluster_utils.Cluster` worker with 1 CPU on this one machine, so the
efficiency is capped by the machine's physical cores (reported): on 2 cores, 4 nodes can at best
match 2. Throughput is video seconds per wall second, end to end (actor start included) and in
steady state (first shard result to last). Peak memory is each stage process's VmHWM (the
kernel's high-water mark of resident memory)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import ray
from ray.cluster_utils import Cluster

from benchmarks.media import CACHE
from dam.config import Settings
from dam.library import Library
from dam.media.probe import probe
from dam.samples import Shot, make_video

LOOKS = ["testsrc", "bars", "mandelbrot", "rgb", "cells", "sunset", "gradients", "sierpinski"]


def corpus(count: int = 4, seconds: int = 8) -> list[Path]:
    folder = CACHE / "scale"
    files = []
    for i in range(count):
        p = folder / f"clip{i}.mp4"
        if not p.exists():
            shots = [Shot(LOOKS[(i + k) % len(LOOKS)], seconds / 4) for k in range(4)]
            make_video(p, shots, size=(320, 180))
        files.append(p)
    return files


def long_video(seconds: int, fps: int = 25) -> Path:
    """A long low-resolution video (a cut every 30 s), encoded fast."""
    p = CACHE / "scale" / f"long_{seconds}s_{fps}fps.mp4"
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        src = (f"testsrc2=s=160x90:r={fps},hue=H=2*PI*floor(t/30)/7:s=1+mod(floor(t/30)\\,3)")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", src, "-t", str(seconds),
                        "-c:v", "libx264", "-preset", "ultrafast", "-g", "250", "-pix_fmt", "yuv420p", str(p)],
                       check=True)
    return p


class Clock:
    """Progress that notes when the L1/L2 stage returned its first and last shard."""

    def __init__(self):
        self.label, self.first, self.last, self.seconds_after_first = "", None, None, 0.0

    def start(self, label: str, total: float, unit: str = "files") -> None:
        self.label = label

    def advance(self, amount: float = 1, note: str = "") -> None:
        if self.label.startswith("L1/L2"):
            now = time.perf_counter()
            if self.first is None:
                self.first = now
            else:
                self.seconds_after_first += amount
            self.last = now

    def finish(self) -> None:
        pass


class PeakMemory:
    """Polls every stage actor's memory while a backfill runs: VmHWM (the kernel's high-water
    mark of resident memory) and the peak of RssAnon, the worker's private memory. VmHWM also
    counts the object-store pages a worker has touched, which grow towards the store's size
    (bounded by it, not by the video); RssAnon is what the worker itself holds."""

    def __init__(self):
        self.peak: dict[int, tuple[str, int]] = {}
        self.private: dict[int, int] = {}
        self.trace: list[tuple[float, str, int]] = []  # (seconds, stage, private KiB) every 30 s
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> "PeakMemory":
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()

    def _poll(self) -> None:
        t0 = last = time.monotonic()
        while not self._stop.wait(0.5):
            now = time.monotonic()
            sample = now - last >= 30
            if sample:
                last = now
            for a in ray._private.state.actors().values():
                if a["State"] != "ALIVE" or "MapWorker" not in a["ActorClassName"]:
                    continue
                kb = _status_kb(a["Pid"])
                if kb.get("VmHWM"):
                    pid = a["Pid"]
                    stage = a["ActorClassName"].split("(")[-1].rstrip(")")
                    self.peak[pid] = (stage, max(kb["VmHWM"], self.peak.get(pid, ("", 0))[1]))
                    self.private[pid] = max(kb.get("RssAnon", 0), self.private.get(pid, 0))
                    if sample:
                        self.trace.append((now - t0, stage, kb.get("RssAnon", 0)))

    def private_over_time(self, points: int = 6) -> dict[str, list[tuple[int, float]]]:
        """(second, private MiB) of each stage at `points` moments spread over the run."""
        out: dict[str, list[tuple[int, float]]] = {}
        for stage in sorted({s for _, s, _ in self.trace}):
            rows = [(t, kb) for t, s, kb in self.trace if s == stage]
            picks = sorted({round(i * (len(rows) - 1) / max(points - 1, 1)) for i in range(points)})
            out[stage] = [(round(rows[i][0]), round(rows[i][1] / 1024, 1)) for i in picks]
        return out

    def by_stage(self, private: bool = False) -> dict[str, float]:
        out: dict[str, float] = {}
        for pid, (stage, kb) in self.peak.items():
            kb = self.private[pid] if private else kb
            out[stage] = max(out.get(stage, 0.0), round(kb / 1024, 1))
        return out


def _status_kb(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "RssAnon"):
                out[key] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return out


def backfill(files: list[Path], nodes: int, tmp: Path, **knobs) -> tuple[dict, PeakMemory]:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    for _ in range(nodes):
        cluster.add_node(num_cpus=1)
    try:
        ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
        cluster.wait_for_nodes()
        settings = Settings(data_dir=tmp / f"data-{nodes}-{time.monotonic_ns()}", ray_address=cluster.address,
                            media_roots=[files[0].parent], **knobs)
        lib = Library(settings)
        clock = Clock()
        with PeakMemory() as mem:
            t0 = time.perf_counter()
            report = lib.ingest(files, levels="L2", progress=clock)
            wall = time.perf_counter() - t0
        assert report.indexed == len(files), report.errors
        lib.close()
        steady = clock.seconds_after_first / (clock.last - clock.first) if clock.last and clock.last > clock.first else None
        return {"wall_s": round(wall, 1), "video_s_per_s": round(report.video_seconds / wall, 2),
                "steady_video_s_per_s": round(steady, 2) if steady else None,
                "decode_nodes": len(report.nodes.get("decode", [])),
                "embed_nodes": len(report.nodes.get("embed", []))}, mem
    finally:
        ray.shutdown()
        cluster.shutdown()


def memory(tmp: Path, lengths: tuple[int, ...], fps: int = 25) -> dict:
    """Peak RSS of each stage's processes on one worker, per video length: bounded means the
    long video's peaks stay near the short one's."""
    out: dict = {}
    for seconds in lengths:
        r, mem = backfill([long_video(seconds, fps)], 1, tmp, shard_seconds=60, decode_concurrency=1,
                          embed_concurrency=1)
        out[f"{seconds}_s"] = {**r, "peak_rss_mib_by_stage": mem.by_stage(),
                               "peak_private_mib_by_stage": mem.by_stage(private=True),
                               "private_mib_over_time": mem.private_over_time()}
    short, long_ = (out[f"{s}_s"]["peak_rss_mib_by_stage"] for s in (min(lengths), max(lengths)))
    short_p, long_p = (out[f"{s}_s"]["peak_private_mib_by_stage"] for s in (min(lengths), max(lengths)))
    return {"memory": out, "memory_growth_long_vs_short": {s: round(long_[s] / short[s], 2) for s in short if s in long_},
            "private_memory_growth_long_vs_short": {s: round(long_p[s] / short_p[s], 2) for s in short_p if s in long_p},
            "videos": f"{', '.join(f'{s} s' for s in lengths)}; 160x90 {fps} fps, shards of 60 s"}


def run(node_counts: tuple[int, ...] = (1, 2, 4), long_seconds: int = 240, short_seconds: int = 30) -> dict:
    files = corpus()
    video_seconds = sum(probe(p).duration for p in files)
    out: dict = {"physical_cores": os.cpu_count(), "corpus": f"{len(files)} × {video_seconds / len(files):.0f} s "
                 "320x180 H.264 25 fps", "throughput": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for n in node_counts:
            r, _ = backfill(files, n, Path(tmp), shard_seconds=2, decode_concurrency=n, embed_concurrency=n)
            out["throughput"][f"{n}_nodes"] = r
        base = out["throughput"][f"{node_counts[0]}_nodes"]
        for n in node_counts:
            r = out["throughput"][f"{n}_nodes"]
            for key in ("video_s_per_s", "steady_video_s_per_s"):
                if r[key] and base[key]:
                    r[key.replace("video_s_per_s", "efficiency")] = round(r[key] / (base[key] * n / node_counts[0]), 2)
        out.update(memory(Path(tmp), (short_seconds, long_seconds)))
    out["ratio"] = out["throughput"][f"{node_counts[-1]}_nodes"].get("steady_efficiency")
    return out


if __name__ == "__main__":
    import argparse
    import json

    ap = argparse.ArgumentParser(description="Backfill scaling and per-stage memory on a local multi-node cluster.")
    ap.add_argument("--memory-only", nargs="*", type=int, metavar="SECONDS",
                    help="only the memory run, for these video lengths (e.g. 30 7200)")
    ap.add_argument("--fps", type=int, default=25, help="frame rate of the memory-run videos")
    args = ap.parse_args()
    if args.memory_only:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(memory(Path(tmp), tuple(args.memory_only), args.fps), indent=2))
    else:
        print(json.dumps(run(), indent=2))
