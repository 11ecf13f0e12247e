"""Frame-by-frame motion at reduced resolution.

Three things make it robust where plain differencing is not:
- light: each frame is mapped onto the background by a robust gain/offset fit, so a ramp or a
  flash (the whole picture changing together) leaves no residual;
- noise and compression flicker: the threshold is a multiple of the residual's own robust
  sigma, then small specks are removed by morphology and a minimum area;
- camera motion: phase correlation against the previous frame measures a global shift; when
  the picture moves as a whole it is reported as camera motion and the background restarts.
"""

from __future__ import annotations

import cv2
import numpy as np

from dam.motion.model import Box, FrameMotion, MotionParams

ALPHA = 0.05  # background learning rate where nothing moves
ALPHA_FG = 0.002  # ... and under moving regions, so a parked car is absorbed in a minute, not a frame
MIN_ABS = 6.0  # grey levels: below this nothing counts, whatever the noise estimate
# A region that differs from the background but has not changed for this long is the background
# now: the empty place an object left (the background is seeded from the first frame, which may
# hold an object that later moves) or something that stopped. Without it the place an object
# stood in at the first frame stayed "moving" to the end of the clip (2-10 s reported where the
# truth is 2-6 s, synth scenario `parked`). A moving textured object changes its pixels every
# frame, so its interior never stays still this long.
GHOST_SECONDS = 1.0


def zone_mask(size: tuple[int, int], zones: list[Box], masks: list[Box]) -> np.ndarray:
    """uint8 mask (255 = watched) from normalised zone and ignore boxes."""
    w, h = size
    out = np.zeros((h, w), np.uint8) if zones else np.full((h, w), 255, np.uint8)
    for value, boxes in ((255, zones), (0, masks)):
        for x, y, bw, bh in boxes:
            x0, y0 = int(round(x * w)), int(round(y * h))
            out[max(0, y0):int(round((y + bh) * h)), max(0, x0):int(round((x + bw) * w))] = value
    return out


def match_light(frame: np.ndarray, ref: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """frame mapped to ref's brightness by gain/offset, fitted twice: the second fit ignores
    pixels the first left far off (the moving object, clipped highlights)."""
    f, r = frame[sample], ref[sample]
    keep = np.ones(f.shape, bool)
    a, b = 1.0, 0.0
    for _ in range(2):
        fs, rs = f[keep], r[keep]
        if fs.size < 16:
            break
        var = fs.var()
        a = float(((fs - fs.mean()) * (rs - rs.mean())).mean() / var) if var > 1e-3 else 1.0
        b = float(rs.mean() - a * fs.mean())
        res = np.abs(a * f + b - r)
        keep = res <= max(3.0 * 1.4826 * float(np.median(res)), MIN_ABS)
    return frame * a + b


class MotionDetector:
    """Feed grey frames (float32 or uint8, analysis size) in order; get FrameMotion back."""

    def __init__(self, size: tuple[int, int], params: MotionParams | None = None):
        self.size = size
        self.params = params or MotionParams()
        self.watch = zone_mask(size, self.params.zones, self.params.masks)
        self.area = max(1, int(np.count_nonzero(self.watch)))
        rng = np.random.default_rng(0)
        n = size[0] * size[1]
        self.sample = np.unravel_index(rng.choice(n, size=min(n, 4096), replace=False), (size[1], size[0]))
        self.half = (max(16, size[0] // 2), max(16, size[1] // 2))
        self.window = cv2.createHanningWindow(self.half, cv2.CV_32F)
        self.kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        # sensitivity 0.5 -> 6 sigma; 1 -> 3 sigma; 0 -> 9 sigma
        self.k = 9.0 - 6.0 * self.params.sensitivity
        self.bg: np.ndarray | None = None
        self.prev: np.ndarray | None = None
        self.last: np.ndarray | None = None  # the previous frame, mapped to the background's light
        self.still_since: np.ndarray | None = None  # per pixel: since when it is foreground and unchanged

    def reset(self) -> None:
        self.bg = self.prev = self.last = self.still_since = None

    @staticmethod
    def _explains(prev: np.ndarray, cur: np.ndarray, dx: float, dy: float) -> bool:
        """A pan changes most of the picture and undoing the shift undoes most of the change; one
        object moving over a plain scene can dominate the correlation but changes little of it."""
        shifted = cv2.warpAffine(prev, np.float32([[1, 0, dx], [0, 1, dy]]), (prev.shape[1], prev.shape[0]),
                                 borderMode=cv2.BORDER_REPLICATE)
        m = int(np.ceil(max(abs(dx), abs(dy)))) + 1
        inner = (slice(m, -m or None), slice(m, -m or None))
        raw = float(np.median(np.abs(cur - prev)[inner]))
        comp = float(np.median(np.abs(cur - shifted)[inner]))
        return raw > 1.5 * comp + 0.5

    def update(self, grey: np.ndarray, t: float) -> FrameMotion:
        g = cv2.GaussianBlur(grey.astype(np.float32, copy=False), (5, 5), 0)
        small = cv2.resize(g, self.half, interpolation=cv2.INTER_AREA)
        if self.bg is None or self.prev is None:
            self.bg, self.prev, self.last = g.copy(), small, None
            self.still_since = np.full(g.shape, np.inf, np.float32)
            return FrameMotion(t=t, intensity=0.0)
        # Global shift at half size; on copies, as OpenCV 5's phaseCorrelate windows its inputs in place.
        (dx, dy), response = cv2.phaseCorrelate(self.prev.copy(), small.copy(), self.window)
        prev, self.prev = self.prev, small
        w, h = self.size
        sx, sy = dx, dy
        dx, dy = dx * w / self.half[0], dy * h / self.half[1]
        if np.hypot(dx, dy) > self.params.camera_shift * w and response > 0.05 and self._explains(prev, small, sx, sy):
            self.bg, self.last = g.copy(), None
            self.still_since.fill(np.inf)
            return FrameMotion(t=t, intensity=0.0, camera=True, shift=(round(dx / w, 5), round(dy / h, 5)))
        norm = match_light(g, self.bg, self.sample)
        diff = cv2.absdiff(norm, self.bg)
        d = diff[self.sample]
        sigma = 1.4826 * float(np.median(d))  # |residual| is half-normal: median ~ 0.674 sigma
        thr = max(MIN_ABS, self.k * sigma)
        fg = ((diff > thr).astype(np.uint8) * 255) & self.watch
        fg = self._absorb_still(norm, fg, thr, t)
        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, self.kernel)
        fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, self.kernel)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
        min_px = max(4, self.params.min_area * w * h)
        boxes: list[Box] = []
        moving = 0
        for i in range(1, n):
            x, y, bw, bh, area = (int(v) for v in stats[i])
            if area >= min_px:
                boxes.append((round(x / w, 4), round(y / h, 4), round(bw / w, 4), round(bh / h, 4)))
                moving += area
        if moving < (fg > 0).sum():
            fg = np.where(np.isin(labels, [i for i in range(1, n) if stats[i, 4] >= min_px]), 255, 0).astype(np.uint8)
        cv2.accumulateWeighted(norm, self.bg, ALPHA, mask=cv2.bitwise_not(fg))
        cv2.accumulateWeighted(norm, self.bg, ALPHA_FG, mask=fg)
        return FrameMotion(t=t, intensity=round(moving / self.area, 5), boxes=boxes)

    def _absorb_still(self, norm: np.ndarray, fg: np.ndarray, thr: float, t: float) -> np.ndarray:
        """Foreground pixels unchanged since the previous frame for GHOST_SECONDS become background
        at once (see GHOST_SECONDS); returns the foreground without them."""
        assert self.bg is not None and self.still_since is not None
        still = fg > 0
        if self.last is not None:
            still &= cv2.absdiff(norm, self.last) <= thr
        else:
            still[:] = False
        self.last = norm
        self.still_since = np.where(still, np.minimum(self.still_since, t), np.inf).astype(np.float32)
        ghost = self.still_since <= t - GHOST_SECONDS
        if ghost.any():
            self.bg[ghost] = norm[ghost]
            self.still_since[ghost] = np.inf
            fg = fg.copy()
            fg[ghost] = 0
        return fg
