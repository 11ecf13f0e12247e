"""Multi-camera sync by waveform: where a clip sits on a reference's timeline, how sure we are,
and how fast its clock drifts.

Two stages, both GCC-PHAT (cross-correlation with the cross-spectrum whitened to unit
magnitude, so mic colouring, gain and rate differences cancel and the peak is sharp):
1. coarse: up to 8 chunks of the clip, each against the whole reference at <= 2 kHz (a rate
   chosen so the FFT stays within 2^23 points: memory is bounded, not proportional to length). Chunks keep
   drift from smearing the peak on long takes and let a clip overlap the reference only partly.
2. fine: windows spread along the overlap at 8 kHz, each searched within a few ms of the coarse
   line, peak refined to a fraction of a sample with a parabola. A line through the window
   offsets gives the offset at clip time 0 and the drift in ppm.

Confidence: under "no common audio" the whitened correlation values are close to i.i.d.
Gaussian, so the peak's robust z-score says how likely chance is; with N lags searched the
Bonferroni bound p <= N * Q(z) gives confidence = 1 - p. Voices and tonal music have heavier
tails than that (their harmonics line up at many lags), so a match also needs the peak to stand
out from its runner-up: peak_ratio >= 2.5 (measured: unrelated pairs <= 1.7, true pairs at
12 dB SNR with 80 ppm drift >= 3.1; benchmarks/sync.py). Otherwise the answer is "no match"."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel
from scipy import fft as sfft
from scipy.signal import firwin, resample_poly, upfirdn
from scipy.stats import norm

from dam.audio.load import TooLong, audio_duration, load_audio

COARSE_RATE = 2000
FINE_RATE = 8000
MAX_FFT = 1 << 23  # coarse FFT length cap: 69 min of reference at 2 kHz, lower rates up to ~5.8 h
MIN_COARSE_RATE = 400
CHUNK_S = 30.0
MAX_CHUNKS = 8
WINDOW_S = 6.0
MAX_WINDOWS = 8
IN_MEMORY_S = 900.0  # files up to 15 min are decoded whole at the fine rate (29 MB); longer ones by window
MAX_DRIFT = 500e-6  # clocks further apart than this are not cameras of one shoot
FINE_BAND = (150.0, 3800.0)
COARSE_BAND = (100.0, 950.0)
MIN_PEAK_RATIO = 2.5  # unrelated audio measured <= 1.7 (speech, tonal music, noise); hard true matches >= 3.1
MIN_OVERLAP = 0.5  # a coarse chunk must overlap the reference by half its length


class SyncResult(BaseModel):
    clip: str
    reference: str
    matched: bool
    offset: float | None = None  # reference time of clip time 0 (seconds; negative: clip starts first)
    drift_ppm: float | None = None  # clip clock vs reference clock: t_ref = offset + t_clip * (1 + drift)
    confidence: float = 0.0  # 1 - (Bonferroni bound on the chance that the peak is a coincidence)
    psr: float = 0.0  # peak-to-sidelobe ratio (robust z-score) of the best coarse peak
    peak_ratio: float = 0.0  # the best coarse peak over its runner-up (away from it)
    overlap: tuple[float, float] | None = None  # the overlapping part, in clip time
    windows: int = 0  # fine windows that agreed on the line
    error_ms: float | None = None  # RMS of the fine windows about the line
    seconds: float = 0.0
    reason: str | None = None


@dataclass
class Peak:
    lag: float  # samples (sub-sample): ref[i + lag] ~ clip[i]
    z: float
    searched: int
    ratio: float = 0.0  # height over the runner-up outside the peak's guard zone (both above the median)


class Track:
    """One file's audio: the coarse signal in memory, fine windows from memory or by seeking."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._fine: np.ndarray | None = None
        try:
            self._fine = load_audio(self.path, FINE_RATE, limit=IN_MEMORY_S)
        except TooLong:
            pass
        if self._fine is not None:
            self.rate = COARSE_RATE
            self.coarse = _decimate(self._fine)
            self.duration = len(self._fine) / FINE_RATE
        else:  # long: the whole file only at the coarse rate its length allows
            self.rate = coarse_rate_for(audio_duration(self.path))
            self.coarse = load_audio(self.path, self.rate)
            self.duration = len(self.coarse) / self.rate

    def with_rate(self, rate: int) -> Track:
        """The coarse signal at a lower rate (the pair's longest file sets it)."""
        if rate < self.rate:
            g = math.gcd(rate, self.rate)
            self.coarse = resample_poly(self.coarse, rate // g, self.rate // g).astype(np.float32)
            self.rate = rate
        return self

    def fine(self, start: float, seconds: float) -> tuple[np.ndarray, float]:
        """Samples at FINE_RATE from max(start, 0), and the time they really start at."""
        start = max(0.0, start)
        if self._fine is not None:
            i = int(round(start * FINE_RATE))
            return self._fine[i:i + int(round(seconds * FINE_RATE))], i / FINE_RATE
        return load_audio(self.path, FINE_RATE, start=start, duration=seconds), start


_STEP = FINE_RATE // COARSE_RATE
_TAPS = firwin(8 * _STEP + 1, COARSE_BAND[1], fs=FINE_RATE).astype(np.float32)


def _decimate(fine: np.ndarray) -> np.ndarray:
    """FINE_RATE -> COARSE_RATE with a short low-pass (33 taps): the coarse search whitens and
    keeps only COARSE_BAND, so a filter that is flat there is enough, and costs a third of
    resample_poly's. The filter's delay (a whole number of output samples) is cut off."""
    delay = (len(_TAPS) - 1) // 2 // _STEP
    return upfirdn(_TAPS, fine, 1, _STEP)[delay:delay + -(-len(fine) // _STEP)].astype(np.float32, copy=False)


def coarse_rate_for(*durations: float) -> int:
    """The highest rate <= COARSE_RATE at which the longest correlation fits MAX_FFT points."""
    longest = max(durations) + CHUNK_S
    return int(max(MIN_COARSE_RATE, min(COARSE_RATE, MAX_FFT / max(longest, 1.0))) // 100 * 100)


def _band_mask(n: int, rate: int, band: tuple[float, float]) -> np.ndarray:
    f = sfft.rfftfreq(n, 1.0 / rate)
    return ((f >= band[0]) & (f <= min(band[1], rate / 2 * 0.95))).astype(np.float32)


def _whitened(ref_spec: np.ndarray, clips: np.ndarray, n: int, mask: np.ndarray) -> np.ndarray:
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


def _peak(corr: np.ndarray, lo: int, hi: int, rate: int) -> Peak:
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
    return Peak(lo + k + frac, z, len(vals), ratio)


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
        corr = _whitened(spec, _rows([items[i][1] for i in batch]), n, _band_mask(n, rate, band))
        for i, row in zip(batch, corr):
            out[i] = _peak(row, *items[i][2], rate)
    return out  # type: ignore[return-value]


def _confidence(z: float, searched: int) -> float:
    if searched <= 0 or z <= 0:
        return 0.0
    return float(max(0.0, 1.0 - searched * norm.sf(z)))


def _coarse(ref: Track, clip: Track) -> tuple[list[tuple[float, float, float, float]], int]:
    """(clip time, offset, z, peak ratio) of each chunk, and the lags searched in all."""
    rate = ref.rate
    a, b = ref.coarse, clip.coarse
    size = min(len(b), int(CHUNK_S * rate))
    if size < rate or len(a) < rate:
        return [], 0
    count = min(MAX_CHUNKS, math.ceil(len(b) / size))
    starts = np.linspace(0, len(b) - size, count).round().astype(int)
    n = sfft.next_fast_len(len(a) + size, real=True)
    spec = sfft.rfft(a, n)
    mask = _band_mask(n, rate, COARSE_BAND)
    floor = float(np.sqrt(np.mean(np.square(b, dtype=np.float64)))) * 1e-3 + 1e-7
    starts = [s for s in starts  # silence says nothing
              if np.sqrt(np.mean(np.square(b[s:s + size], dtype=np.float64))) >= floor]
    found, searched = [], 0
    per_batch = max(1, MAX_FFT // n)  # chunks transformed together, within the coarse memory bound
    for i in range(0, len(starts), per_batch):
        group = starts[i:i + per_batch]
        corr = _whitened(spec, np.stack([b[s:s + size] for s in group]), n, mask)
        for s, row in zip(group, corr):
            p = _peak(row, -int(size * (1 - MIN_OVERLAP)), len(a) - int(size * MIN_OVERLAP), rate)
            searched += p.searched
            found.append(((s + size / 2) / rate, (p.lag - s) / rate, p.z, p.ratio))
    return found, searched


def _fit(t: np.ndarray, o: np.ndarray) -> tuple[float, float]:
    if len(t) >= 3 and np.ptp(t) > 0:
        slope, icpt = np.polyfit(t, o, 1)
        return float(icpt), float(slope)
    return float(np.median(o - 0 * t)), 0.0


def sync_pair(reference: str | Path, clip: str | Path, min_confidence: float = 0.999,
              tracks: tuple[Track, Track] | None = None) -> SyncResult:
    """Where `clip` sits on `reference`'s timeline (either may start first, they may overlap
    only partly), or matched=False with the reason when their audio does not match."""
    import time

    t0 = time.perf_counter()
    out = SyncResult(clip=str(clip), reference=str(reference), matched=False)
    ref, cl = tracks or (Track(reference), Track(clip))  # one after the other: decoding holds the GIL
    rate = min(ref.rate, cl.rate, coarse_rate_for(ref.duration, cl.duration))
    ref, cl = ref.with_rate(rate), cl.with_rate(rate)
    chunks, searched = _coarse(ref, cl)
    best = max(chunks, key=lambda c: c[2]) if chunks else (0, 0, 0.0, 0.0)
    out.psr, out.peak_ratio = round(best[2], 2), round(best[3], 2)
    out.confidence = round(_confidence(best[2], searched), 6)
    if not chunks or out.confidence < min_confidence or out.peak_ratio < MIN_PEAK_RATIO:
        out.reason = "no match: the audio has nothing in common" if chunks else "no match: too short or silent"
        out.seconds = time.perf_counter() - t0
        return out
    # Chunks that clear the bar on their own and agree with the best one (within the drift two cameras can have).
    good = [c for c in chunks if _confidence(c[2], searched) >= min_confidence and c[3] >= MIN_PEAK_RATIO]
    top = max(good, key=lambda c: c[2])
    good = [c for c in good if abs(c[1] - top[1]) <= 0.02 + MAX_DRIFT * abs(c[0] - top[0])]
    icpt, slope = _fit(np.array([c[0] for c in good]), np.array([c[1] for c in good]))
    margin = 0.01 + 3.0 / rate + MAX_DRIFT * (0 if len(good) >= 3 else cl.duration)
    start = max(0.0, -icpt)
    end = min(cl.duration, (ref.duration - icpt) / (1 + slope))
    out.overlap = (round(start, 3), round(end, 3))
    # Fine windows spread over the overlap, each searched within `margin` of the coarse line.
    win = min(WINDOW_S, max(0.5, end - start))
    count = max(1, min(MAX_WINDOWS, int((end - start) // win)))
    windows, items = [], []
    for t in np.linspace(start, max(start, end - win), count):
        c, c_at = cl.fine(t, win)
        expect = icpt + slope * (c_at + win / 2)
        r, r_at = ref.fine(c_at + expect - margin, win + 2 * margin)
        if len(c) < FINE_RATE // 4 or len(r) < len(c):
            continue
        centre = int(round((c_at + expect - r_at) * FINE_RATE))
        reach = int(margin * FINE_RATE)
        windows.append((c_at, r_at))
        items.append((r, c, (centre - reach, centre + reach)))
    ts, offs, zs = [], [], []
    for (c_at, r_at), p in zip(windows, gcc_phat_many(items, FINE_RATE, FINE_BAND) if items else []):
        if _confidence(p.z, p.searched) >= min_confidence:
            ts.append(c_at + win / 2)
            offs.append(r_at + p.lag / FINE_RATE - c_at)
            zs.append(p.z)
    if not ts:  # the coarse line is all we have
        ts, offs = [c[0] for c in good], [c[1] for c in good]
    t_arr, o_arr = np.array(ts), np.array(offs)
    icpt, slope = _fit(t_arr, o_arr)
    resid = o_arr - (icpt + slope * t_arr)
    keep = np.abs(resid) <= max(0.001, 3 * 1.4826 * float(np.median(np.abs(resid))))
    if keep.sum() >= 2 and not keep.all():
        t_arr, o_arr = t_arr[keep], o_arr[keep]
        icpt, slope = _fit(t_arr, o_arr)
        resid = o_arr - (icpt + slope * t_arr)
    out.matched = True
    out.offset = round(icpt, 6)
    out.drift_ppm = round(slope * 1e6, 2) if len(t_arr) >= 3 and np.ptp(t_arr) >= 10 else None
    out.windows = int(len(t_arr)) if zs else 0
    out.error_ms = round(float(np.sqrt(np.mean(resid ** 2))) * 1e3, 4)
    out.seconds = time.perf_counter() - t0
    return out
