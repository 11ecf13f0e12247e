"""Footage with known motion, for tests, benchmarks and demos: a noisy static textured scene,
objects crossing it in known intervals, brightness ramps and flashes (not motion), and pans
(camera motion). Frames are drawn with numpy and encoded by ffmpeg (H.264 adds real
compression flicker)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np


@dataclass
class Scenario:
    seconds: float
    objects: list[tuple[float, float]] = field(default_factory=list)  # object crossing during [start, end)
    ramp: tuple[float, float, float] | None = None  # start, end, final gain
    flashes: list[float] = field(default_factory=list)  # instants of 3-frame flashes
    pans: list[tuple[float, float]] = field(default_factory=list)  # camera pans during [start, end)
    noise: float = 4.0
    object_size: float = 1 / 6  # side of the square object, as a fraction of the height
    flash_gain: float = 1.6
    parked: bool = False  # each object stands at its start position from the first frame until it moves


SCENARIOS: dict[str, Scenario] = {
    "objects": Scenario(12, objects=[(2.0, 5.0), (8.0, 10.5)]),
    "ramp": Scenario(10, ramp=(2.0, 8.0, 1.7)),
    "flash": Scenario(8, flashes=[2.0, 5.0]),
    "objects_light": Scenario(14, objects=[(1.5, 4.0), (11.0, 13.0)], ramp=(5.0, 9.0, 0.6), flashes=[10.0]),
    "pan": Scenario(8, pans=[(2.0, 5.0)]),
    # in the first frame, so the background the detector starts from holds it; truth: 2-6 s
    "parked": Scenario(10, objects=[(2.0, 6.0)], parked=True),
}


def _texture(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    base = rng.normal(0, 1, (h // 8 + 1, w // 8 + 1, 3)).astype(np.float32)
    tex = cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC) * 30 + 120
    fine = cv2.GaussianBlur(rng.normal(0, 25, (h, w, 3)).astype(np.float32), (0, 0), 1.5)
    return np.clip(tex + fine, 20, 220)


def render(path: Path, sc: Scenario, size: tuple[int, int] = (640, 360), fps: int = 25, seed: int = 0,
           crf: int = 26) -> Path:
    w, h = size
    rng = np.random.default_rng(seed)
    pan_px = sum((e - s) for s, e in sc.pans) * w * 0.12  # 12% of the width per second of pan
    world = _texture(w + int(pan_px) + 2, h, rng)
    side = max(8, int(h * sc.object_size))
    obj = np.clip(_texture(side, side, rng) * 0.4 + 150, 0, 255)
    ob = obj.shape[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(fps),
           "-i", "pipe:0", "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-pix_fmt", "yuv420p",
           f"file:{path}"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for i in range(int(round(sc.seconds * fps))):
        t = i / fps
        offset = sum(max(0.0, min(t, e) - s) for s, e in sc.pans) * w * 0.12
        x0 = int(offset)
        frame = world[:, x0:x0 + w].copy()
        for k, (s, e) in enumerate(sc.objects):
            if s <= t < e or (sc.parked and t < s):
                u = max(0.0, (t - s) / (e - s))
                ox = int(u * (w - ob))
                oy = int(h * (0.25 + 0.3 * (k % 2)) + np.sin(u * 6) * h * 0.05)
                frame[oy:oy + ob, ox:ox + ob] = obj
        gain = 1.0
        if sc.ramp:
            s, e, g = sc.ramp
            gain *= 1 + (g - 1) * float(np.clip((t - s) / (e - s), 0, 1))
        if any(0 <= t - f < 3 / fps for f in sc.flashes):
            gain *= sc.flash_gain
        frame = frame * gain + rng.normal(0, sc.noise, frame.shape)
        proc.stdin.write(np.clip(frame, 0, 255).astype(np.uint8).tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg could not encode {path}")
    return path


def interval_iou(found: list[tuple[float, float]], truth: list[tuple[float, float]], duration: float,
                 step: float = 0.01) -> float:
    """IoU of two sets of time intervals, on a fine time grid."""
    t = np.arange(0, duration, step)
    a = np.zeros(t.shape, bool)
    b = np.zeros(t.shape, bool)
    for s, e in found:
        a |= (t >= s) & (t < e)
    for s, e in truth:
        b |= (t >= s) & (t < e)
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0
