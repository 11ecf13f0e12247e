"""A deterministic visual descriptor that needs no weights: colour layout, colour histogram,
edge orientations and a perceptual hash. Robust to re-encoding, rescaling and mild crops, so
it serves query-by-image, near-duplicate links and shot similarity offline."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from dam.encoders.base import ImageEncoder, unit

# Relative weight of each part in the final vector.
_WEIGHTS = {"layout": 1.0, "hist": 1.0, "edges": 0.8, "phash": 0.6}
# Below these norms a part holds only sensor noise (a sky, a wall, a black frame): it is scaled
# down instead of normalised up, so the colour histogram decides and a re-encode cannot turn
# noise into a different vector. Noisy flat frames measure under a tenth of them; structured
# frames above them (layout >= 0.9 unless finely textured, edges >= 8, hash >= 2.4).
_GREY_SATURATION = 24  # of 255: a grey's sensor noise stays below it once shrunk to 64x64
_EDGE_NOISE = 0.03  # Sobel response of 3 sigma of ISO noise at 64x64; a soft gradient gives 0.06
_FLOORS = {"layout": 0.1, "hist": 1e-6, "edges": 5.0, "phash": 1.0}


def _layout(ycc8: np.ndarray) -> np.ndarray:
    """MPEG-7-style colour layout: low DCT frequencies of an 8x8 thumbnail per channel."""
    parts = [cv2.dct(ycc8[:, :, c])[:4, :4].ravel() for c in range(3)]
    v = np.concatenate(parts)
    v[0] = v[16] = v[32] = 0.0  # drop DC terms: global brightness/colour is the histogram's job
    return v


def _hist(img64: np.ndarray) -> np.ndarray:
    """Hue x saturation x value; greys by value alone, as their hue is noise."""
    hsv = cv2.cvtColor(img64, cv2.COLOR_RGB2HSV)
    grey = (hsv[:, :, 1] < _GREY_SATURATION).astype(np.uint8)
    colour = cv2.calcHist([hsv], [0, 1, 2], 1 - grey, [12, 3, 3], [0, 180, 0, 256, 0, 256]).ravel()
    greys = cv2.calcHist([hsv], [2], grey, [3], [0, 256]).ravel()
    h = np.concatenate([colour, greys])
    return np.sqrt(h / max(h.sum(), 1.0))  # Hellinger: cosine on sqrt histograms


def _edges(gray64: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(gray64, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray64, cv2.CV_32F, 0, 1, ksize=3)
    mag, ang = cv2.cartToPolar(gx, gy, angleInDegrees=False)
    mag = np.maximum(mag - _EDGE_NOISE, 0.0)  # sensor noise is not an edge
    bins = np.minimum((ang % np.pi) / np.pi * 8, 7).astype(np.int32)
    cells = np.zeros((4, 4, 8), np.float32)
    ys, xs = np.divmod(np.arange(64 * 64), 64)
    np.add.at(cells, (ys // 16, xs // 16, bins.ravel()), mag.ravel())
    return np.sqrt(cells.ravel())


def _phash(gray32: np.ndarray) -> np.ndarray:
    """Hash bits scaled so the vector's norm is the low-frequency energy they were read from."""
    d = cv2.dct(gray32)[:8, :8].ravel()[1:]
    bits = np.where(d > np.median(d), 1.0, -1.0).astype(np.float32)
    return bits * np.float32(np.linalg.norm(d) / np.sqrt(d.size))


def describe(image: np.ndarray) -> np.ndarray:
    img64 = cv2.resize(image, (64, 64), interpolation=cv2.INTER_AREA)
    gray64 = cv2.cvtColor(img64, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    ycc8 = cv2.resize(cv2.cvtColor(img64, cv2.COLOR_RGB2YCrCb), (8, 8), interpolation=cv2.INTER_AREA)
    gray32 = cv2.resize(gray64, (32, 32), interpolation=cv2.INTER_AREA)
    parts = {
        "layout": _layout(ycc8.astype(np.float32) / 255.0),
        "hist": _hist(img64),
        "edges": _edges(gray64),
        "phash": _phash(gray32),
    }
    return unit(np.concatenate([parts[k] / max(float(np.linalg.norm(parts[k])), _FLOORS[k]) * w
                                for k, w in _WEIGHTS.items()]))


class BuiltinEncoder(ImageEncoder):
    key = "builtin-v2"
    search_ef = 64  # picture queries only: recall@10 1.000 at 100k for stills at cosine 0.77 (benchmarks/search.py)
    dim = 48 + 111 + 128 + 63
    cheap = True

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        if len(images) == 0:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([describe(np.ascontiguousarray(im[:, :, :3])) for im in images]).astype(np.float32)
