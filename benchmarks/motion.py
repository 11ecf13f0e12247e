"""Motion: speed of dam's analysis on 1080p (frames/s per core, × real time, ÷ decode alone),
its accuracy against OpenCV's MOG2 background subtractor on the same generated footage (object
interval IoU, false-positive seconds; a pan counts as false positives for object motion), and
the live preview's latency and dropped frames for a 30 fps file camera on local Ray."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.media import CACHE
from dam.media.probe import probe
from dam.motion.analyze import analysis_size, analyze_file, grey_frames
from dam.motion.model import FrameMotion, MotionParams
from dam.motion.synth import SCENARIOS, Scenario, interval_iou, render
from dam.motion.timeline import intervals


def footage(name: str, sc: Scenario, size: tuple[int, int], fps: int = 25) -> Path:
    path = CACHE / "motion" / f"{name}_{size[1]}p{fps}.mp4"
    if not path.exists():
        render(path, sc, size=size, fps=fps)
    return path


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def speed() -> dict:
    """One decoder thread, so CPU seconds measure what one core does."""
    path = footage("objects_light", SCENARIOS["objects_light"], (1920, 1080))
    info = probe(path)
    frames = info.video.frame_count or round(info.duration * info.video.fps)
    out = {"file": "1920x1080 25 fps H.264", "seconds": round(info.duration, 2), "frames": frames}
    c0 = _cpu()
    subprocess.run(["ffmpeg", "-v", "error", "-threads", "1", "-i", str(path), "-an", "-f", "null", "-"], check=True)
    decode_cpu = _cpu() - c0
    out["decode_only_fps_per_core"] = round(frames / decode_cpu, 1)
    for label, fps in (("analyse_10fps", 10.0), ("analyse_every_frame", 0.0)):
        c0, t0 = _cpu(), time.perf_counter()
        tl = analyze_file(path, MotionParams(fps=fps), threads=1)
        cpu, wall = _cpu() - c0, time.perf_counter() - t0
        out[label] = {"frames_per_s_per_core": round(frames / cpu, 1), "x_real_time_per_core": round(info.duration / cpu, 1),
                      "x_real_time_wall": round(info.duration / wall, 1), "vs_decode_only": round(decode_cpu / cpu, 3),
                      "intervals": [(i.start, i.end) for i in tl.intervals if i.kind == "object"]}
    return out


def mog2_timeline(path: Path, params: MotionParams) -> list[tuple[float, float]]:
    """The baseline on the same frames (size, rate), with the same cleanup, area and merging rules."""
    info = probe(path)
    size = analysis_size(info.video.width, info.video.height, params.width)
    step = 1.0 / params.fps
    sub = cv2.createBackgroundSubtractorMOG2(history=100, varThreshold=16, detectShadows=False)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    min_px = max(4, params.min_area * size[0] * size[1])
    moved = []
    for i, grey in enumerate(grey_frames(path, size, params.fps)):
        fg = sub.apply(cv2.GaussianBlur(grey, (5, 5), 0))
        fg = cv2.morphologyEx(cv2.morphologyEx(fg, cv2.MORPH_OPEN, kernel), cv2.MORPH_CLOSE, kernel)
        n, _, stats, _ = cv2.connectedComponentsWithStats(fg)
        boxes = [(0.0, 0.0, 0.0, 0.0) for j in range(1, n) if stats[j, 4] >= min_px]
        if i > 5 and boxes:  # MOG2 needs a few frames to learn the scene
            moved.append(FrameMotion(t=round(i * step, 4), intensity=0.0, boxes=boxes))
    return [(x.start, x.end) for x in intervals(moved, step, params) if x.kind == "object"]


def false_positive_seconds(found, truth, duration: float, step: float = 0.01) -> float:
    t = np.arange(0, duration, step)
    a = np.zeros(t.shape, bool)
    b = np.zeros(t.shape, bool)
    for s, e in found:
        a |= (t >= s) & (t < e)
    for s, e in truth:
        b |= (t >= s) & (t < e)
    return round(float((a & ~b).sum() * step), 2)


# Harder cases on top of the test scenarios: strong clipped flashes, a fast exposure change,
# small objects in heavy sensor noise.
HARD = {
    "strong_flashes": Scenario(12, objects=[(6.0, 9.0)], flashes=[2.0, 4.0, 10.5], flash_gain=2.2),
    "fast_ramp": Scenario(10, objects=[(6.5, 9.0)], ramp=(2.0, 3.5, 2.0)),
    "noisy_small": Scenario(12, objects=[(2.0, 5.0), (7.0, 10.0)], noise=10.0, object_size=0.08),
}


def accuracy() -> dict:
    params = MotionParams()
    cases = {**SCENARIOS, **HARD}
    rows, totals = {}, {"dam": [0.0, 0.0], "mog2": [0.0, 0.0]}
    for name, sc in cases.items():
        path = footage(name, sc, (640, 360))
        ours = [(i.start, i.end) for i in analyze_file(path, params).intervals if i.kind == "object"]
        base = mog2_timeline(path, params)
        row = {}
        for who, found in (("dam", ours), ("mog2", base)):
            iou = interval_iou(found, sc.objects, sc.seconds) if sc.objects else None
            fp = false_positive_seconds(found, sc.objects, sc.seconds)
            row[who] = {"iou": None if iou is None else round(iou, 3), "false_positive_s": fp}
            totals[who][0] += fp
            if iou is not None:
                totals[who][1] += iou / sum(1 for s in cases.values() if s.objects)
        rows[name] = row
    return {"scenarios": rows, "dam_mean_iou": round(totals["dam"][1], 3), "mog2_mean_iou": round(totals["mog2"][1], 3),
            "dam_false_positive_s": round(totals["dam"][0], 2), "mog2_false_positive_s": round(totals["mog2"][0], 2)}


def preview(seconds: float = 10.0) -> dict:
    """A 30 fps 720p file camera on local Ray; a consumer takes each new frame by reference,
    draws zebras and encodes the JPEG, as the MJPEG route does."""
    import ray

    from dam.actors.manager import start_manager
    from dam.config import Settings
    from dam.motion.overlays import preview_jpeg
    from dam.runtime.start import ensure_ray

    path = footage("objects", SCENARIOS["objects"], (1280, 720), fps=30)
    ensure_ray(Settings())
    work = CACHE / "motion" / "preview-data"
    manager = start_manager(Settings(data_dir=work, media_roots=[work / "media"], camera_ingest_levels="off"))
    try:
        cam = ray.get(manager.plug.remote(str(path)))
        handle = ray.get(manager.camera.remote(cam))[0]
        while not ray.get(handle.latest_frame.remote()):
            time.sleep(0.05)
        first = ray.get(handle.info.remote())
        lat, seen, last = [], 0, None
        t_end = time.monotonic() + seconds
        while time.monotonic() < t_end:
            item = ray.get(handle.latest_frame.remote())
            if item["seq"] == last:
                time.sleep(0.002)
                continue
            last = item["seq"]
            preview_jpeg(ray.get(item["ref"][0]), "zebra", 90, item["boxes"], width=960)
            lat.append(time.time() - item["t"])
            seen += 1
        info = ray.get(handle.info.remote())
    finally:
        ray.get(manager.shutdown.remote())
        ray.kill(manager)
    captured = info["frames"] - first["frames"]
    lat_ms = np.array(lat) * 1000
    return {"camera": "1280x720 30 fps file, real-time pacing, recording on", "seconds": seconds,
            "load_average_1min": round(os.getloadavg()[0], 1), "cores": os.cpu_count(),
            "source_fps": info["fps"], "frames_captured": captured,
            "source_dropped_frames": info["dropped"] - first["dropped"],
            "preview_frames": seen, "preview_fps": round(seen / seconds, 1),
            "latency_p50_ms": round(float(np.percentile(lat_ms, 50)), 1),
            "latency_p95_ms": round(float(np.percentile(lat_ms, 95)), 1)}


def run() -> dict:
    acc = accuracy()
    return {"speed_1080p": speed(), "accuracy": acc, "preview": preview(),
            "iou_vs_mog2": round(acc["dam_mean_iou"] / acc["mog2_mean_iou"], 3) if acc["mog2_mean_iou"] else None}
