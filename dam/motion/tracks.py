"""Simple multi-object tracking: boxes of consecutive frames associated by IoU (falling back to
centroid distance for small, fast objects) with the Hungarian algorithm; an id per object."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from dam.motion.model import Box, FrameMotion, Track, TrackPoint


def iou(a: Box, b: Box) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def _cost(a: Box, b: Box) -> float:
    """1 - IoU when boxes overlap; otherwise centroid distance relative to their size (+1)."""
    o = iou(a, b)
    if o > 0:
        return 1.0 - o
    ca = np.array([a[0] + a[2] / 2, a[1] + a[3] / 2])
    cb = np.array([b[0] + b[2] / 2, b[1] + b[3] / 2])
    scale = max(a[2], a[3], b[2], b[3], 1e-6)
    return 1.0 + float(np.linalg.norm(ca - cb)) / scale


class Tracker:
    """Feed FrameMotion in time order; `tracks()` returns every track seen (at least min_points)."""

    def __init__(self, max_age: float = 1.0, max_cost: float = 2.5, min_points: int = 2):
        self.max_age, self.max_cost, self.min_points = max_age, max_cost, min_points
        self.active: list[Track] = []
        self.done: list[Track] = []
        self.next_id = 1

    def update(self, fm: FrameMotion) -> list[tuple[int, Box]]:
        """Associate this frame's boxes; returns (track id, box) for each box."""
        for tr in [tr for tr in self.active if fm.t - tr.end > self.max_age]:
            self.active.remove(tr)
            self.done.append(tr)
        boxes = [] if fm.camera else fm.boxes
        assigned: dict[int, Track] = {}
        if self.active and boxes:
            cost = np.array([[_cost(tr.points[-1].box, b) for b in boxes] for tr in self.active])
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols):
                if cost[r, c] <= self.max_cost:
                    assigned[c] = self.active[r]
        out = []
        for j, b in enumerate(boxes):
            tr = assigned.get(j)
            if tr is None:
                tr = Track(id=self.next_id, points=[])
                self.next_id += 1
                self.active.append(tr)
            tr.points.append(TrackPoint(t=fm.t, box=b))
            out.append((tr.id, b))
        return out

    def tracks(self) -> list[Track]:
        found = [t for t in self.done + self.active if len(t.points) >= self.min_points]
        return sorted(found, key=lambda t: t.id)
