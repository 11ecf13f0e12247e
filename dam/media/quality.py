"""How good a frame is to show: sharp, well exposed. Used to pick each scene's hero frame."""

from __future__ import annotations

import cv2
import numpy as np


def frame_quality(frame: np.ndarray) -> float:
    """Higher is better: log sharpness (Laplacian variance) minus penalties for clipping and
    for frames that are mostly dark or flat (fades, black frames, lens caps)."""
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    sharp = np.log1p(cv2.Laplacian(gray, cv2.CV_32F).var())
    mean = gray.mean() / 255.0
    clipped = float(((gray < 8) | (gray > 247)).mean())
    exposure = 1.0 - abs(mean - 0.45) * 2.0
    flat = 2.0 if gray.std() < 8 else 0.0
    return float(sharp + 2.0 * exposure - 3.0 * clipped - flat)


def pick_hero(qualities: np.ndarray, vectors: np.ndarray) -> int:
    """The frame that is both good to look at and typical of its scene."""
    if len(qualities) == 1:
        return 0
    centre = vectors.mean(axis=0)
    centre /= max(np.linalg.norm(centre), 1e-12)
    typical = vectors @ centre
    q = (qualities - qualities.mean()) / (qualities.std() + 1e-6)
    return int(np.argmax(q + 4.0 * typical))
