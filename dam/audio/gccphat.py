"""GCC-PHAT, the correlation multi-camera sync is built on (dam.audio.sync): cross-correlation
with the cross-spectrum whitened to unit magnitude, so mic colouring, gain and rate differences
cancel and the peak is sharp; the best lag refined to a fraction of a sample, how far it stands
above chance (robust z-score) and above its runner-up, and the rivals of a repeating sound."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft
from scipy.special import ndtr

MIN_PEAK_RATIO = 2.5  # unrelated audio measured <= 1.74 (speech, tonal music, noise); hard true matches >= 5.98
# A peak that repeats (a tone, a beat, mains hum) has rivals as high as itself: a pure 440 Hz tone
# delayed by 1 s measured coarse ratio 1.00 with z ~ 600 ("confidence 1"), and where the tone's
# onset gave the coarse stage one clean peak its fine windows (tone only) measured ratio ~1.0
# and landed +35.5 ms off on another cycle. Below REPEAT_RATIO a peak is "ambiguous" and its
# rivals are the candidates reported instead of an offset. The bar is the match's own: a peak
# less than MIN_PEAK_RATIO above a rival is no match, so every such rival is a candidate.
# Unrelated speech and tonal music also have peaks with rivals (ratio 1.07-1.74) but stand only
# z 8.1-8.4 above their floor (true pairs 47-91, the tone 540-2600): a repeat must clear REPEAT_MIN_Z.
REPEAT_RATIO = MIN_PEAK_RATIO
RIVAL_SHARE = 1 / MIN_PEAK_RATIO
REPEAT_MIN_Z = 20.0


@dataclass
class Peak:
    lag: float  # samples (sub-sample): ref[i + lag] ~ clip[i]
    z: float
    searched: int
    ratio: float = 0.0  # height over the runner-up outside the peak's guard zone (both above the median)
    rivals: tuple[float, ...] = ()  # lags of other peaks nearly as high as this one (when the ratio is low)


def band_mask(n: int, rate: int, band: tuple[float, float]) -> np.ndarray:
    f = sfft.rfftfreq(n, 1.0 / rate)
    return ((f >= band[0]) & (f <= min(band[1], rate / 2 * 0.95))).astype(np.float32)


def whitened(ref_spec: np.ndarray, clips: np.ndarray, n: int, mask: np.ndarray) -> np.ndarray:
    """Whitened cross-correlations of one or more clips (rows) against their reference spectra,
    transformed together."""
    x = ref_spec * np.conj(sfft.rfft(clips, n, axis=-1))
    mag = np.abs(x)
    x /= mag + (mag.max(axis=-1, keepdims=True) * 1e-6 + 1e-20)
    x *= mask
    return sfft.irfft(x, n, axis=-1)


def _rows(signals: list[np.ndarray]) -> np.ndarray:
    out = np.zeros((len(signals), max(len(x) for x in signals)), np.float32)
    for row, x in zip(out, signals):
        row[:len(x)] = x
    return out


def peak(corr: np.ndarray, lo: int, hi: int, rate: int) -> Peak:
    """Best lag in [lo, hi] (negative lags wrap to the end of `corr`), refined by a parabola,
    with its robust z-score against the other lags and its ratio to the runner-up outside
    +-25 ms (clear of the peak's own lobes and of pitch-period echoes)."""
    n = len(corr)
    hi = min(hi, n - 1)
    lo = max(lo, hi - n + 1)  # n covers every lag of interest once (n >= len(ref) + len(clip))
    if hi < lo:
        return Peak(0.0, 0.0, 0)
    vals = np.concatenate([corr[n + lo:], corr[:hi + 1]]) if lo < 0 else corr[lo:hi + 1]
    k = int(np.argmax(vals))
    frac = 0.0
    if 0 < k < len(vals) - 1:
        a, b, c = vals[k - 1], vals[k], vals[k + 1]
        den = a - 2 * b + c
        frac = float(0.5 * (a - c) / den) if den < 0 else 0.0
    guard = max(2, int(0.025 * rate))
    side = np.concatenate([vals[:max(0, k - guard)], vals[k + guard + 1:]])
    if len(side) < 16:
        return Peak(lo + k + frac, 0.0, len(vals))
    runner = float(side.max())
    if len(side) > 20_000:  # the median and MAD of 20k lags are within 1% of all of them
        side = side[:: len(side) // 20_000]
    med = float(np.median(side))
    mad = float(np.median(np.abs(side - med))) * 1.4826
    top = float(vals[k]) - med
    z = top / mad if mad > 0 else 0.0
    ratio = top / (runner - med) if runner > med else 0.0
    rivals = _rivals(vals, k, guard, med, top) if 0 < ratio < REPEAT_RATIO and z >= REPEAT_MIN_Z else ()
    return Peak(lo + k + frac, z, len(vals), ratio, tuple(lo + r for r in rivals))


def _rivals(vals: np.ndarray, k: int, guard: int, med: float, top: float, most: int = 5) -> list[int]:
    """Indices of the highest peaks at least `guard` apart (the best, `k`, first) that reach
    RIVAL_SHARE of its height above the median: where a repeating sound could equally sit."""
    v = vals - med
    taken = np.zeros(len(v), bool)
    out = []
    j = k
    while len(out) < most and v[j] >= RIVAL_SHARE * top:
        out.append(j)
        taken[max(0, j - guard):j + guard + 1] = True
        if taken.all():
            break
        j = int(np.argmax(np.where(taken, -np.inf, v)))
    return out


def gcc_phat(ref: np.ndarray, clip: np.ndarray, rate: int, band: tuple[float, float],
             lags: tuple[int, int] | None = None) -> Peak:
    """The lag at which `clip` best matches `ref` (ref[i + lag] ~ clip[i]), searched over
    `lags` (default: every lag where they overlap)."""
    lags = lags if lags is not None else (-(len(clip) - 1), len(ref) - 1)
    return gcc_phat_many([(ref, clip, lags)], rate, band)[0]


def gcc_phat_many(items: list[tuple[np.ndarray, np.ndarray, tuple[int, int]]], rate: int,
                  band: tuple[float, float]) -> list[Peak]:
    """`gcc_phat` of several (ref, clip, lags), transformed in batches."""
    # Lags where the clip lies wholly inside the reference never wrap in a circular correlation
    # as long as the reference: half the FFT length of the linear one. Those batch together.
    inside = [0 <= lo and hi <= len(r) - len(c) for r, c, (lo, hi) in items]
    out: list[Peak | None] = [None] * len(items)
    for kind in (True, False):
        batch = [i for i, k in enumerate(inside) if k == kind]
        if not batch:
            continue
        n = sfft.next_fast_len(max(len(items[i][0]) + (0 if kind else len(items[i][1])) for i in batch), real=True)
        spec = sfft.rfft(_rows([items[i][0] for i in batch]), n, axis=-1)
        corr = whitened(spec, _rows([items[i][1] for i in batch]), n, band_mask(n, rate, band))
        for i, row in zip(batch, corr):
            out[i] = peak(row, *items[i][2], rate)
    return out  # type: ignore[return-value]


def confidence(z: float, searched: int) -> float:
    if searched <= 0 or z <= 0:
        return 0.0
    return float(max(0.0, 1.0 - searched * ndtr(-z)))
