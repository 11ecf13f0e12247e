"""Sample footage made with ffmpeg: shots of distinct looks joined by cuts, dissolves and fades,
with the exact transition frames known. The demo ingests it; the tests and benchmarks score
shot detection and search against it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import ffmpeg

# Visually distinct looks, each with motion so a shot is not a still.
LOOKS: dict[str, str] = {
    "testsrc": "testsrc2=s={w}x{h}:r={fps}",
    "mandelbrot": "mandelbrot=s={w}x{h}:r={fps}",
    "bars": "smptehdbars=s={w}x{h}:r={fps},hue=H=t/4",
    "gradients": "gradients=s={w}x{h}:r={fps}:speed=0.03:seed=7",
    "sierpinski": "sierpinski=s={w}x{h}:r={fps}:seed=3",
    "rgb": "rgbtestsrc=s={w}x{h}:r={fps},rotate=a=t/3:fillcolor=navy",
    "cells": "cellauto=s={w}x{h}:r={fps}:rule=110:seed=5,negate,colorchannelmixer=rr=0.2:gg=0.7:bb=1",
    "sunset": "gradients=s={w}x{h}:r={fps}:c0=#ff7e00:c1=#3a0066:c2=#ffd000:x0=0:y0=0:x1={w}:y1={h}:speed=0.01:seed=11",
}

Transition = Literal["cut", "dissolve", "fade"]


@dataclass(frozen=True)
class Shot:
    look: str
    seconds: float
    transition_in: Transition = "cut"


@dataclass(frozen=True)
class Boundary:
    """A transition between shots, in frames: a cut has start == end (first frame of the new shot)."""

    kind: Transition
    start: int
    end: int

    @property
    def center(self) -> float:
        return (self.start + self.end) / 2


def make_video(path: Path, shots: list[Shot], fps: int = 25, size: tuple[int, int] = (640, 360),
               transition_seconds: float = 1.0, noise: int = 6, crf: int = 23) -> list[Boundary]:
    """Render shots into one H.264 file and return where the transitions are."""
    w, h = size
    frames_of = [round(s.seconds * fps) for s in shots]
    tf = round(transition_seconds * fps)
    acc = None
    acc_frames = 0
    truth: list[Boundary] = []
    for shot, n in zip(shots, frames_of):
        src = ffmpeg.input(LOOKS[shot.look].format(w=w, h=h, fps=fps), f="lavfi", t=n / fps + 0.5)
        src = src.filter("trim", end_frame=n).filter("setpts", "PTS-STARTPTS").filter("format", "yuv420p")
        src = src.filter("settb", "AVTB")
        if acc is None:
            acc, acc_frames = src, n
        elif shot.transition_in == "cut":
            truth.append(Boundary("cut", acc_frames, acc_frames))
            acc, acc_frames = ffmpeg.concat(acc, src, v=1, a=0), acc_frames + n
        else:
            offset = acc_frames - tf
            mode = "fade" if shot.transition_in == "dissolve" else "fadeblack"
            acc = ffmpeg.filter([acc, src], "xfade", transition=mode, duration=tf / fps, offset=offset / fps)
            truth.append(Boundary(shot.transition_in, offset, offset + tf - 1))
            acc_frames += n - tf
    if noise:
        acc = acc.filter("noise", alls=noise, allf="t", all_seed=1)  # same pictures every run
    audio = ffmpeg.input("sine=frequency=330:sample_rate=48000", f="lavfi", t=acc_frames / fps)
    path.parent.mkdir(parents=True, exist_ok=True)
    # One x264 thread: its output depends on its thread count, which defaults to the machine's
    # cores. The 9-s test clip encoded with 8 or 24 threads gave TransNetV2 a 0.28/0.38 peak in
    # a shot with no cut (0.006 with 1 thread), and a CI machine found a fourth scene in it.
    out = ffmpeg.output(acc, audio, str(path), vcodec="libx264", preset="veryfast", crf=crf, pix_fmt="yuv420p",
                        r=fps, g=2 * fps, threads=1, acodec="aac", shortest=None, movflags="+faststart")
    out.overwrite_output().run(quiet=True)
    return truth


def write_truth(path: Path, truth: list[Boundary]) -> None:
    path.write_text(json.dumps([asdict(b) for b in truth], indent=1))


SAMPLE_LIBRARY: dict[str, list[Shot]] = {
    "city_walk_A001.mp4": [Shot("testsrc", 6), Shot("bars", 5), Shot("mandelbrot", 6, "dissolve"), Shot("rgb", 5)],
    "sunset_beach_B002.mp4": [Shot("sunset", 8), Shot("gradients", 6, "fade"), Shot("cells", 6)],
    "studio_interview_C003.mp4": [Shot("sierpinski", 7), Shot("testsrc", 5, "dissolve"), Shot("bars", 6)],
}


def make_sample_library(folder: Path, fps: int = 25, size: tuple[int, int] = (640, 360)) -> list[Path]:
    """The demo's footage; files that already exist are kept (they are the user's library now)."""
    paths = []
    for name, shots in SAMPLE_LIBRARY.items():
        p = folder / name
        if not p.exists():
            tmp = p.with_name(f".{p.stem}.part{p.suffix}")
            make_video(tmp, shots, fps=fps, size=size)
            tmp.replace(p)
        paths.append(p)
    return paths
