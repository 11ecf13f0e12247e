"""Monitoring overlays for camera previews, as pure functions over RGB uint8 frames.

Levels are in IRE on full-range Rec.709 luma: IRE = 100 * Y' / 255."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

# False colour bands (IRE upper bound, RGB), after the common ARRI-style scale.
FALSE_COLOUR: list[tuple[float, tuple[int, int, int]]] = [
    (2.5, (128, 0, 128)),    # crushed: purple
    (10, (0, 0, 255)),       # near black: blue
    (38, None),              # shadows: grey (the picture's own luma)
    (42, (0, 160, 0)),       # 18% grey: green
    (52, None),
    (56, (255, 128, 192)),   # one stop over grey / skin: pink
    (90, None),
    (97, (255, 255, 0)),     # near clipping: yellow
    (101, (255, 0, 0)),      # clipped: red
]


_REC709 = np.float32([[0.2126, 0.7152, 0.0722]])


def luma(frame: np.ndarray) -> np.ndarray:
    """Rec.709 luma, float32, 0..255."""
    if frame.ndim == 2:
        return frame.astype(np.float32)
    y = cv2.transform(frame.astype(np.float32), _REC709)
    return y[..., 0] if y.ndim == 3 else y


@lru_cache(maxsize=8)
def _stripes(h: int, w: int, period: int, phase: int) -> np.ndarray:
    yy, xx = np.indices((h, w))
    stripes = ((xx + yy + phase) % period) < period // 2
    stripes.flags.writeable = False
    return stripes


def ire(frame: np.ndarray) -> np.ndarray:
    return luma(frame) * (100.0 / 255.0)


def false_colour(frame: np.ndarray) -> np.ndarray:
    """Exposure bands painted in fixed colours; between bands, the picture in grey."""
    level = ire(frame)
    grey = np.clip(luma(frame), 0, 255).astype(np.uint8)
    out = np.repeat(grey[..., None], 3, axis=2)
    lo = -1.0
    for hi, colour in FALSE_COLOUR:
        if colour is not None:
            out[(level > lo) & (level <= hi)] = colour
        lo = hi
    return out


def zebra_mask(frame: np.ndarray, threshold_ire: float) -> np.ndarray:
    """Pixels at or above the threshold."""
    return ire(frame) >= threshold_ire


def zebra(frame: np.ndarray, threshold_ire: float = 95.0, period: int = 8, phase: int = 0) -> np.ndarray:
    """Diagonal black stripes over every pixel at or above the threshold; others untouched.
    `phase` moves the stripes (animate it for a crawling zebra)."""
    mask = zebra_mask(frame, threshold_ire)
    out = frame.copy()
    out[mask & _stripes(*mask.shape, period, phase)] = 0
    return out


def peaking_mask(frame: np.ndarray, threshold: float = 40.0) -> np.ndarray:
    """Edges in focus: strong local contrast (Laplacian of the luma)."""
    lap = cv2.Laplacian(cv2.GaussianBlur(luma(frame), (3, 3), 0), cv2.CV_32F, ksize=3)
    return np.abs(lap) >= threshold


def focus_peaking(frame: np.ndarray, threshold: float = 40.0, colour: tuple[int, int, int] = (255, 0, 0)) -> np.ndarray:
    out = frame.copy()
    out[peaking_mask(frame, threshold)] = colour
    return out


def draw_boxes(frame: np.ndarray, boxes, colour: tuple[int, int, int] = (0, 255, 0)) -> np.ndarray:
    """Motion boxes (fractions x, y, w, h) outlined."""
    h, w = frame.shape[:2]
    out = np.ascontiguousarray(frame.copy())
    for x, y, bw, bh in boxes:
        cv2.rectangle(out, (int(x * w), int(y * h)), (int((x + bw) * w), int((y + bh) * h)), colour, 2)
    return out


OVERLAYS = {"false_colour": false_colour, "zebra": zebra, "peaking": focus_peaking}


def apply(frame: np.ndarray, overlay: str | None, zebra_ire: float = 95.0) -> np.ndarray:
    if not overlay or overlay == "none":
        return frame
    if overlay == "zebra":
        return zebra(frame, zebra_ire)
    if overlay not in OVERLAYS:
        raise ValueError(f"unknown overlay {overlay!r} (choose from {', '.join(OVERLAYS)})")
    return OVERLAYS[overlay](frame)


def preview_frame(frame: np.ndarray, overlay: str | None = None, zebra_ire: float = 95.0, boxes=(),
                  width: int | None = None) -> np.ndarray:
    """One preview picture, RGB: optionally downsized, overlaid, motion boxes drawn. The MJPEG
    and WebRTC previews both show this."""
    if width and frame.shape[1] > width:
        h = round(frame.shape[0] * width / frame.shape[1])
        frame = cv2.resize(frame, (width, h), interpolation=cv2.INTER_AREA)
    out = apply(frame, overlay, zebra_ire)
    if boxes:
        out = draw_boxes(out, boxes)
    return out


def preview_jpeg(frame: np.ndarray, overlay: str | None = None, zebra_ire: float = 95.0, boxes=(),
                 width: int | None = None, quality: int = 80) -> bytes:
    """One preview frame (preview_frame), JPEG-encoded."""
    out = preview_frame(frame, overlay, zebra_ire, boxes, width)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(out, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes()
