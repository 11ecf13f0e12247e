"""Benchmark footage, generated with ffmpeg and cached under benchmarks/results/media."""

from __future__ import annotations

import json
import random
import subprocess
from dataclasses import asdict
from pathlib import Path

from dam.samples import LOOKS, Boundary, Shot, make_video

CACHE = Path(__file__).parent / "results" / "media"


def hd_shots(count: int = 3) -> list[Path]:
    """The shot videos upscaled to 1080p: what a camera card holds, for the ingest benchmark."""
    out = []
    for src, _, _ in shot_set(count):
        dest = src.with_name(src.stem + "_1080p.mp4")
        if not dest.exists():
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), "-vf", "scale=1920:1080:flags=bicubic",
                            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-c:a", "copy", str(dest)], check=True)
        out.append(dest)
    return out


def hd_file(seconds: int = 120) -> Path:
    """A 1080p30 H.264 clip with motion, the decode benchmark's input."""
    out = CACHE / f"hd_{seconds}s.mp4"
    if not out.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s=1920x1080:r=30:d={seconds}",
                        "-vf", "noise=alls=6:allf=t", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
                        "-pix_fmt", "yuv420p", "-g", "60", str(out)], check=True)
    return out


def shot_set(count: int = 4, shots_per_video: int = 10, seed: int = 7) -> list[tuple[Path, list[Boundary], int]]:
    """Videos of random shots joined by a random mix of cuts, dissolves and fades."""
    rng = random.Random(seed)
    looks = list(LOOKS)
    out = []
    for k in range(count):
        path = CACHE / f"shots_{seed}_{k}.mp4"
        meta = path.with_suffix(".json")
        if not meta.exists():
            CACHE.mkdir(parents=True, exist_ok=True)
            order = rng.sample(looks, len(looks)) + rng.sample(looks, len(looks))
            shots = [Shot(order[0], rng.uniform(2.5, 5))]
            for i in range(1, shots_per_video):
                if order[i] == order[i - 1]:
                    continue
                shots.append(Shot(order[i], rng.uniform(2.5, 5), rng.choice(["cut", "cut", "dissolve", "fade"])))
            truth = make_video(path, shots, fps=25, size=(640, 360))
            frames = int(subprocess.run(["ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0",
                                         "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", str(path)],
                                        capture_output=True, text=True, check=True).stdout.strip())
            meta.write_text(json.dumps({"truth": [asdict(b) for b in truth], "frames": frames}))
        data = json.loads(meta.read_text())
        out.append((path, [Boundary(**b) for b in data["truth"]], data["frames"]))
    return out
