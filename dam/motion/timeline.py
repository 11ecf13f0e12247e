"""Per-frame motion -> intervals (start, end, intensity, region, tracks), and per-frame exports
of tracks as CSV or JSON (for editors and trackers)."""

from __future__ import annotations

import csv
import io

from dam.motion.model import Box, FrameMotion, MotionInterval, MotionParams, Track


def _union(boxes: list[Box]) -> Box | None:
    if not boxes:
        return None
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (round(x0, 4), round(y0, 4), round(x1 - x0, 4), round(y1 - y0, 4))


def intervals(frames: list[FrameMotion], step: float, params: MotionParams, tracks: list[Track] = ()) -> list[MotionInterval]:
    """Runs of moving frames, merged across gaps shorter than min_gap, dropped when shorter
    than min_duration. Object motion and camera motion are separate kinds."""
    out: list[MotionInterval] = []
    for kind in ("object", "camera"):
        hits = [f for f in frames if (f.camera if kind == "camera" else (f.boxes and not f.camera))]
        runs: list[list[FrameMotion]] = []
        for f in hits:
            if runs and f.t - runs[-1][-1].t <= params.min_gap + step * 0.5:
                runs[-1].append(f)
            else:
                runs.append([f])
        for run in runs:
            start, end = run[0].t, run[-1].t + step
            if end - start < params.min_duration:
                continue
            inten = [f.intensity for f in run]
            ids = sorted({t.id for t in tracks if t.start <= end and t.end >= start}) if kind == "object" else []
            out.append(MotionInterval(start=round(start, 3), end=round(end, 3), kind=kind,
                                      intensity=round(max(inten), 5), mean_intensity=round(sum(inten) / len(inten), 5),
                                      region=_union([b for f in run for b in f.boxes]), tracks=ids))
    return sorted(out, key=lambda i: (i.start, i.kind))


def overlap(found: list[MotionInterval], start: float, end: float) -> bool:
    return any(i.kind == "object" and i.start < end and i.end > start for i in found)


def track_rows(tracks: list[Track], size: tuple[int, int] | None = None) -> list[dict]:
    """One row per track per frame, sorted by time: t, track, x, y, w, h (fractions), and in
    pixels of `size` (the source's width, height) when given."""
    rows = []
    for tr in tracks:
        for p in tr.points:
            x, y, w, h = p.box
            row = {"t": p.t, "track": tr.id, "x": x, "y": y, "w": w, "h": h}
            if size:
                W, H = size
                row.update(px=round(x * W), py=round(y * H), pw=round(w * W), ph=round(h * H))
            rows.append(row)
    return sorted(rows, key=lambda r: (r["t"], r["track"]))


def tracks_csv(tracks: list[Track], size: tuple[int, int] | None = None) -> str:
    rows = track_rows(tracks, size)
    fields = ["t", "track", "x", "y", "w", "h"] + (["px", "py", "pw", "ph"] if size else [])
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def tracks_per_frame(tracks: list[Track], size: tuple[int, int] | None = None) -> list[dict]:
    """[{t, objects: [{track, x, y, w, h, ...}]}] — one entry per analysed frame with objects."""
    frames: dict[float, list[dict]] = {}
    for r in track_rows(tracks, size):
        t = r.pop("t")
        frames.setdefault(t, []).append(r)
    return [{"t": t, "objects": objs} for t, objs in frames.items()]
