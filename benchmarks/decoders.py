"""Decoders: each backend behind dam.media.decoders on the pipeline's own work (every frame at
48x27 for shot detection, one frame a second at 224 px for embedding), one thread each, against
`ffmpeg -threads 1 -f null` on the same file in the same run; peak memory of a process doing it;
and frames recovered from the damaged corpus (dam.damage) against what ffmpeg decodes."""

from __future__ import annotations

import multiprocessing as mp
import re
import subprocess
import time
from pathlib import Path

from benchmarks.media import CACHE, hd_file
from dam.media.decoders import NAMES

SECONDS = 30


def hevc_file(seconds: int = SECONDS) -> Path:
    out = CACHE / f"hd_{seconds}s_hevc.mp4"
    if not out.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(hd_file(seconds)), "-c:v", "libx265", "-preset",
                        "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1", str(out)], check=True)
    return out


def ffmpeg_frames(path: Path, threads: int = 1) -> tuple[int, float]:
    """Frames ffmpeg decodes from the first video stream, and the seconds it took."""
    t0 = time.perf_counter()
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "quiet", "-threads", str(threads), "-i", str(path),
                        "-map", "0:v:0", "-f", "null", "-", "-progress", "pipe:1"], capture_output=True, text=True)
    frames = [int(x) for x in re.findall(r"^frame=(\d+)", r.stdout, re.M)]
    return (frames[-1] if frames else 0), time.perf_counter() - t0


def _available(name: str) -> bool:
    if name == "torchcodec":
        try:
            import torchcodec  # noqa: F401
        except ImportError:
            return False
    return True


def _peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux keeps ru_maxrss across
    exec, so a spawned child reported its parent's 1.3 GB whatever it decoded."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _shard_work(path: str, backend: str, out) -> None:
    """In a fresh process, so its peak memory is this backend's alone."""
    import numpy as np

    from dam.media.decode import DecodeError, decode_shard, decode_size, sample_indices
    from dam.media.probe import probe

    v = probe(Path(path)).video
    n = 10**7
    t0 = time.perf_counter()
    try:
        sf = decode_shard(Path(path), 0, n, sample_indices(0, n, v.fps or 25, 1.0),
                          decode_size(v.width, v.height, 224), threads=1, backend=backend)
        frames = len(sf.decoded)
    except DecodeError:
        frames = 0
    seconds = time.perf_counter() - t0
    out.put({"frames": frames, "seconds": seconds, "peak_rss_mb": _peak_mb(),
             "sampled": int(len(sf.index)) if frames else 0, "np": np.__version__})


def measure(path: Path, backend: str) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_shard_work, args=(str(path), backend, q))
    p.start()
    r = q.get(timeout=1800)
    p.join()
    r.pop("np", None)
    return r


def speed(backends: list[str]) -> dict:
    out = {}
    for label, path in (("h264_1080p", hd_file(SECONDS)), ("hevc_1080p", hevc_file(SECONDS))):
        ref_frames, ref_s = ffmpeg_frames(path)
        row = {"ffmpeg_frames_per_s": round(ref_frames / ref_s, 1)}
        for b in backends:
            m = measure(path, b)
            fps = m["frames"] / m["seconds"] if m["seconds"] else 0.0
            row[b] = {"frames_per_s": round(fps, 1), "ratio_vs_ffmpeg": round(fps / (ref_frames / ref_s), 3),
                      "peak_rss_mb": round(m["peak_rss_mb"], 1), "frames": m["frames"]}
            print(f"  decode {label:<11} {b:<10} {fps:7.1f} frames/s = {row[b]['ratio_vs_ffmpeg']:.2f}x ffmpeg, "
                  f"peak {m['peak_rss_mb']:.0f} MB", flush=True)
        out[label] = row
    return out


def recovery(backends: list[str], seed: int = 17) -> dict:
    """Frames each backend recovers from every damaged video of the corpus ÷ ffmpeg's."""
    from dam.damage import build
    from dam.media.decode import DecodeError, decode_shard, decode_size

    _, cases = build(CACHE / "damaged", seed=seed)
    videos = [c for c in cases if c.path.suffix in (".mp4", ".mov", ".mkv", ".ts") and c.path.stat().st_size]
    totals = {b: 0 for b in ("ffmpeg", *backends)}
    per_file = []
    for c in videos:
        ref, _ = ffmpeg_frames(c.path)
        row = {"file": c.path.name, "damage": c.damage, "ffmpeg": ref}
        for b in backends:
            try:
                got = len(decode_shard(c.path, 0, 10**7, [], decode_size(320, 180, 180), backend=b).decoded)
            except DecodeError:
                got = 0
            row[b] = got
            totals[b] += got
        totals["ffmpeg"] += ref
        per_file.append(row)
    ratio = {b: round(totals[b] / max(totals["ffmpeg"], 1), 3) for b in backends}
    print(f"  damaged corpus: {len(videos)} videos, frames recovered ÷ ffmpeg's: {ratio}", flush=True)
    return {"videos": len(videos), "frames": totals, "recovered_vs_ffmpeg": ratio, "per_file": per_file}


def run() -> dict:
    backends = [b for b in NAMES if _available(b)]
    rec = recovery(backends)
    spd = speed(backends)
    from dam.media.decoders import DEFAULT

    return {"default": DEFAULT, "backends": backends, "speed": spd, "damaged": rec,
            "ratio": spd["h264_1080p"][DEFAULT]["ratio_vs_ffmpeg"],
            "recovered": rec["recovered_vs_ffmpeg"][DEFAULT]}
