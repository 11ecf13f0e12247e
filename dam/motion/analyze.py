"""Motion timeline of one file: ffmpeg decodes and downsizes to grey at the analysis size and
rate (one pass, arg list, no shell), the detector and tracker run on the small frames."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dam.media.decode import DecodeError
from dam.media.probe import ProbeError, probe
from dam.motion.detect import MotionDetector
from dam.motion.model import FrameMotion, MotionParams, MotionTimeline
from dam.motion.timeline import intervals
from dam.motion.tracks import Tracker


def analysis_size(width: int, height: int, target: int) -> tuple[int, int]:
    w = min(target, width)
    return max(16, round(w / 2) * 2), max(16, round(height * w / width / 2) * 2)


def grey_frames(path: Path, size: tuple[int, int], fps: float, threads: int = 0) -> Iterator[np.ndarray]:
    """Grey uint8 frames [h, w] of the first video stream at `fps` (0: every frame)."""
    w, h = size
    vf = (f"fps={fps}," if fps else "") + f"scale={w}:{h}:flags=area,format=gray"
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-threads", str(threads), "-i", f"file:{path}", "-map", "0:v:0",
           "-vf", vf, "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    n = w * h
    ended = False
    try:
        assert proc.stdout is not None
        while True:
            buf = proc.stdout.read(n)
            if len(buf) < n:
                ended = True
                break
            yield np.frombuffer(buf, np.uint8).reshape(h, w)
    finally:
        if not ended:  # the consumer stopped early: not an error
            proc.kill()
        proc.stdout.close()  # type: ignore[union-attr]
        err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
        code = proc.wait()
    if code != 0:
        raise DecodeError(f"cannot decode video: {err.splitlines()[-1] if err else f'ffmpeg exit {code}'}")


def analyze_file(path: Path, params: MotionParams | None = None, threads: int = 0) -> MotionTimeline:
    """The whole timeline: intervals, tracks and the frames where something moved."""
    params = params or MotionParams()
    t0 = time.perf_counter()
    try:
        info = probe(Path(path))
    except ProbeError as e:
        raise DecodeError(str(e)) from None
    if info.kind != "video" or info.video is None:
        raise DecodeError(f"not a video ({info.kind})")
    w, h = info.display_size or (info.video.width, info.video.height)
    size = analysis_size(w, h, params.width)
    src_fps = info.video.fps or 25.0
    fps = params.fps if params.fps and params.fps < src_fps else 0.0
    step = 1.0 / (fps or src_fps)
    det, tracker = MotionDetector(size, params), Tracker(max_age=max(1.0, 3 * step))
    moved: list[FrameMotion] = []
    count = 0
    for i, grey in enumerate(grey_frames(Path(path), size, fps, threads)):
        fm = det.update(grey, round(i * step, 4))
        count += 1
        if fm.boxes or fm.camera:
            tracker.update(fm)
            moved.append(fm)
    if count == 0:
        raise DecodeError("video has no decodable frames")
    tracks = tracker.tracks()
    return MotionTimeline(duration=info.duration or count * step, fps=round(1 / step, 3), size=size, params=params,
                          intervals=intervals(moved, step, params, tracks), tracks=tracks, frames=moved,
                          seconds=round(time.perf_counter() - t0, 3))
