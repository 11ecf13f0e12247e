"""Multi-camera sync by waveform: where a clip sits on a reference's timeline, how sure we are,
and how fast its clock drifts.

Two stages, both GCC-PHAT (dam.audio.gccphat: cross-correlation with the cross-spectrum
whitened to unit magnitude, so mic colouring, gain and rate differences cancel and the peak is sharp):
1. coarse: 15 s chunks of the clip, each against the whole reference at <= 2 kHz (a rate chosen
   so the FFT stays within 2^23 points: memory is bounded, not proportional to length). Chunks
   keep drift from smearing the peak on long takes and let a clip overlap the reference only
   partly. They are read by seeking, middle first, and the search stops once the matching ones
   pin the line down (one chunk for a clip short enough that drift cannot move its ends by more
   than 50 ms, else three): most of a clip that matches is never decoded. Audio that does not
   match is read in every chunk before the answer is "no match".
2. fine: 2 s windows at 8 kHz at both ends of the overlap (they pin the drift down) and between
   them inside the chunk already decoded, each searched within a few ms of the coarse line, peak
   refined to a fraction of a sample with a parabola. A line through the window offsets gives
   the offset at clip time 0 and the drift in ppm. If no window agrees, every chunk is read and
   the windows spread over the whole overlap.

The reference is decoded whole: at FINE_RATE when it is at most 20 minutes long (its windows
are then cut from it), else at the coarse rate. One thread: decoding in a second one measured
slower (PyAV holds the GIL through much of it).

Confidence: under "no common audio" the whitened correlation values are close to i.i.d.
Gaussian, so the peak's robust z-score says how likely chance is; with N lags searched the
Bonferroni bound p <= N * Q(z) gives confidence = 1 - p. Voices and tonal music have heavier
tails than that (their harmonics line up at many lags), so a match also needs the peak to stand
out from its runner-up: peak_ratio >= 2.5 (measured with 15 s chunks: unrelated pairs <= 1.74,
true pairs at 12 dB SNR >= 5.98; benchmarks/sync.py). Otherwise the answer is "no match"."""

from __future__ import annotations

import contextlib
import math
import time
from pathlib import Path

import numpy as np
from pydantic import BaseModel
from scipy import fft as sfft
from scipy.signal import firwin, resample_poly, upfirdn

from dam.audio.gccphat import MIN_PEAK_RATIO, band_mask, confidence, gcc_phat_many, peak, whitened
from dam.audio.load import AudioReader

COARSE_RATE = 2000
FINE_RATE = 8000
MAX_FFT = 1 << 23  # coarse FFT length cap: 69 min of reference at 2 kHz, lower rates up to ~5.8 h
MIN_COARSE_RATE = 400
CHUNK_S = 15.0
MAX_CHUNKS = 8
WINDOW_S = 2.0
MAX_WINDOWS = 5
MERGE_GAP = 2.0  # windows closer than this are decoded in one read (s)
MAX_DRIFT = 500e-6  # clocks further apart than this are not cameras of one shoot
FINE_BAND = (150.0, 3800.0)
COARSE_BAND = (100.0, 950.0)
# A fine window searches a few hundred lags, so the Bonferroni bar alone lets a window with nothing
# in the fine band through (a 50 Hz hum: windows at z 6.9-13.5 pulled the line 72 ms off the
# coarse peak's right answer). Windows of true pairs measure z 46-122; weaker ones are not used.
FINE_MIN_Z = 20.0
MIN_OVERLAP = 0.5  # a coarse chunk must overlap the reference by half its length
ONE_CHUNK_DRIFT = 0.05  # one matching chunk is enough when the drift cannot move the clip's ends further (s)
SILENCE = 1e-5  # RMS of a chunk below which it is silence (-100 dBFS)
FINE_REACH = 0.06  # fine windows search at least +-this about the coarse line (s): peak()'s guard is 25 ms
WHOLE_FINE_S = 20 * 60.0  # a file read whole is decoded at FINE_RATE up to this long (38 MB), else at the coarse rate


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
    ambiguous: bool = False  # the best peak repeats (a tone, a beat, hum): no single offset can be trusted
    candidates: list[float] = []  # when ambiguous: offsets (s) whose peaks stand as high as the best


class Track:
    """One file's audio, decoded only where the sync looks: the reference whole (it is searched
    at every lag), a clip in the chunks asked for, and both in fine windows read by seeking. An
    open file, so each read is a seek, not an open. A file read whole that is short enough is
    decoded at FINE_RATE and its windows cut from that. A container that cannot seek to the
    sample (Matroska, MPEG-PS, ASF) is read from the start: whole, and when it is long, once
    more up to its last fine window."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.reader = AudioReader(self.path, fast=True)
        self.seekable = self.reader.exact_seek
        self.duration = self.reader.duration  # from the header until the file is read whole
        self.coarse = np.zeros(0, np.float32)
        self.rate = COARSE_RATE
        self._spans: list[tuple[float, np.ndarray]] = []  # (start, samples at FINE_RATE) already decoded
        self._chunks: dict[tuple[float, float, int], np.ndarray] = {}
        self._spectrum: tuple[int, np.ndarray] | None = None

    def load_whole(self, rate: int) -> Track:
        self.rate = rate
        if 0 < self.duration <= WHOLE_FINE_S:
            fine = self.reader.read(FINE_RATE)
            self._spans = [(0.0, fine)]
            self.coarse = _to_rate(_decimate(fine), rate)
        else:
            self.coarse = self.reader.read(rate)
        self.duration = len(self.coarse) / rate
        return self

    def spectrum(self, n: int) -> np.ndarray:
        """The coarse signal's spectrum at FFT length n (the same for every chunk searched in it)."""
        if self._spectrum is None or self._spectrum[0] != n:
            self._spectrum = (n, sfft.rfft(self.coarse, n))
        return self._spectrum[1]

    def chunk(self, start: float, seconds: float, rate: int) -> np.ndarray:
        """Samples at `rate` from `start` (kept at FINE_RATE too, for fine windows inside it)."""
        key = (start, seconds, rate)
        if key not in self._chunks:
            if self.seekable or not len(self.coarse) or self._decoded(start, seconds):
                fine, at = self.fine(start, seconds)
                if not self._decoded(at, len(fine) / FINE_RATE):
                    self._spans.append((at, fine))
                self._chunks[key] = _to_rate(_decimate(fine), rate)
            else:  # cut from the whole file at the coarse rate
                i = int(round(start * self.rate))
                self._chunks[key] = _to_rate(self.coarse[i:i + int(round(seconds * self.rate))], rate)
        return self._chunks[key]

    def fine(self, start: float, seconds: float) -> tuple[np.ndarray, float]:
        """Samples at FINE_RATE from max(start, 0), and the time they really start at."""
        start = max(0.0, start)
        n = int(round(seconds * FINE_RATE))
        for at, x in self._spans:
            i = int(round((start - at) * FINE_RATE))
            ends = at + len(x) / FINE_RATE >= self.duration - 0.01  # the span runs to the end of the file
            if 0 <= i and (i + n <= len(x) or ends and i < len(x)):
                return x[i:i + n], at + i / FINE_RATE
        return self.reader.read(FINE_RATE, start=start, duration=seconds), start

    def windows(self, wanted: list[tuple[float, float]]) -> list[tuple[np.ndarray, float]]:
        """`fine` of each (start, seconds); windows less than MERGE_GAP apart are decoded in one
        read (a read has a fixed cost: the seek, the decoder's pre-roll, the resampler's set-up)."""
        wanted = [(max(0.0, a), n) for a, n in wanted]
        missing = [w for w in wanted if not self._decoded(*w)]
        if missing and not self.seekable:  # one read from the start, keeping only the windows
            end = max(a + n for a, n in missing)
            self._spans += _cut(self.reader.blocks(FINE_RATE, 0.0, end, block_seconds=10.0), missing)
            missing = []
        for group in _near(sorted(missing), MERGE_GAP):
            a, b = group[0][0], max(t + n for t, n in group)
            if len(group) > 1 and not self._decoded(a, b - a):
                self._spans.append((a, self.fine(a, b - a)[0]))
        return [self.fine(a, n) for a, n in wanted]

    def window_starts(self, start: float, end: float, win: float) -> list[float]:
        """Where fine windows of `win` s go in [start, end]: spread evenly, but those between
        the two ends (which pin the drift down) moved inside the stretch already decoded as a
        chunk when they are not in one: windows there cost no decoding."""
        count = max(1, min(MAX_WINDOWS, int((end - start) // win)))
        even = [max(0.0, float(t)) for t in np.linspace(start, max(start, end - win), count)]
        decoded = [(max(at, start), min(at + len(x) / FINE_RATE, end)) for at, x in self._spans]
        decoded = [(a, b) for a, b in decoded if b - a >= win]
        if count <= 2 or not decoded or all(self._decoded(t, win) for t in even):
            return even
        a, b = max(decoded, key=lambda r: r[1] - r[0])
        return [even[0], *[float(t) for t in np.linspace(a, b - win, count - 2)], even[-1]]

    def _decoded(self, start: float, seconds: float) -> bool:
        return any(at <= start and start + seconds <= at + len(x) / FINE_RATE for at, x in self._spans)

    def close(self) -> None:
        self.reader.close()


def _cut(blocks, wanted: list[tuple[float, float]]) -> list[tuple[float, np.ndarray]]:
    """(start, samples) of each (start, seconds) window, cut from consecutive FINE_RATE blocks."""
    bounds = [(int(round(a * FINE_RATE)), int(round((a + n) * FINE_RATE))) for a, n in wanted]
    parts: list[list[np.ndarray]] = [[] for _ in wanted]
    pos = 0
    for block in blocks:
        for (lo, hi), part in zip(bounds, parts):
            if lo < pos + len(block) and hi > pos:
                part.append(block[max(0, lo - pos):hi - pos])
        pos += len(block)
    return [(lo / FINE_RATE, np.concatenate(p) if p else np.zeros(0, np.float32)) for (lo, _), p in zip(bounds, parts)]


def _near(windows: list[tuple[float, float]], gap: float) -> list[list[tuple[float, float]]]:
    """Sorted (start, seconds) windows grouped where each starts within `gap` of the one before's end."""
    groups: list[list[tuple[float, float]]] = []
    for w in windows:
        if groups and w[0] - max(t + n for t, n in groups[-1]) <= gap:
            groups[-1].append(w)
        else:
            groups.append([w])
    return groups


def _to_rate(coarse: np.ndarray, rate: int) -> np.ndarray:
    """COARSE_RATE -> a lower coarse rate (the pair's longest file sets it)."""
    if rate >= COARSE_RATE:
        return coarse
    g = math.gcd(rate, COARSE_RATE)
    return resample_poly(coarse, rate // g, COARSE_RATE // g).astype(np.float32)


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


def _chunk_plan(clip: Track) -> tuple[float, list[float]]:
    """The coarse chunks' length and start times, in the order they are read: middle first."""
    seconds = min(clip.duration, CHUNK_S)
    if seconds <= 0:
        return 0.0, []
    count = min(MAX_CHUNKS, math.ceil(clip.duration / seconds))
    starts = np.linspace(0, clip.duration - seconds, count)
    return seconds, [float(starts[i]) for i in sorted(range(count), key=lambda i: abs(i - (count - 1) / 2))]


def _fft_length(ref: Track, clip: Track) -> int:
    return sfft.next_fast_len(len(ref.coarse) + int(_chunk_plan(clip)[0] * ref.rate), real=True)


def _coarse(ref: Track, clip: Track, min_confidence: float, early: bool
            ) -> tuple[list[tuple[float, float, float, float, tuple[float, ...]]], int, bool]:
    """(clip time, offset, z, peak ratio, rival offsets) of each chunk read, the lags searched in all the
    chunks planned, and whether every planned chunk was read. With `early`, reading stops at
    the first chunk that matches when the clip is short enough for one chunk to bound the drift,
    else at the third."""
    a, rate = ref.coarse, ref.rate
    seconds, starts = _chunk_plan(clip)
    size = int(seconds * rate)
    if size < rate or len(a) < rate:
        return [], 0, True
    n = _fft_length(ref, clip)
    spec, mask = ref.spectrum(n), band_mask(n, rate, COARSE_BAND)
    lo, hi = -int(size * (1 - MIN_OVERLAP)), len(a) - int(size * MIN_OVERLAP)
    searched = len(starts) * (hi - lo + 1)  # the bound counts every chunk that could have been searched
    needed = 1 if MAX_DRIFT * clip.duration <= ONE_CHUNK_DRIFT else 3
    found, matches = [], 0
    for k, at in enumerate(starts):
        b = clip.chunk(at, seconds, rate)[:size]
        if len(b) < rate or np.sqrt(np.mean(np.square(b, dtype=np.float64))) < SILENCE:  # says nothing
            continue
        p = peak(whitened(spec, b, n, mask), lo, hi, rate)
        found.append((at + len(b) / rate / 2, p.lag / rate - at, p.z, p.ratio,
                      tuple(round(r / rate - at, 4) for r in p.rivals)))
        matches += confidence(p.z, searched) >= min_confidence and p.ratio >= MIN_PEAK_RATIO
        if early and matches >= needed:
            return found, searched, k == len(starts) - 1
    return found, searched, True


def _fit(t: np.ndarray, o: np.ndarray) -> tuple[float, float]:
    if len(t) >= 3 and np.ptp(t) > 0:
        slope, icpt = np.polyfit(t, o, 1)
        return float(icpt), float(slope)
    return float(np.median(o - 0 * t)), 0.0


def sync_pair(reference: str | Path, clip: str | Path, min_confidence: float = 0.999) -> SyncResult:
    """Where `clip` sits on `reference`'s timeline (either may start first, they may overlap
    only partly), or matched=False with the reason when their audio does not match."""
    t0 = time.perf_counter()
    with contextlib.closing(Track(reference)) as ref, contextlib.closing(Track(clip)) as cl:
        if not cl.duration or not cl.seekable:  # read it whole first: chunks are cut from it
            cl.load_whole(COARSE_RATE)
        ref.load_whole(min(COARSE_RATE, coarse_rate_for(ref.duration, cl.duration)))
        out, complete = _match(ref, cl, min_confidence, early=True)
        if out.matched and not out.windows and not complete:  # no fine window agreed: look at every chunk
            out, _ = _match(ref, cl, min_confidence, early=False)
    out.clip, out.reference = str(clip), str(reference)
    out.seconds = time.perf_counter() - t0
    return out


def _match(ref: Track, cl: Track, min_confidence: float, early: bool) -> tuple[SyncResult, bool]:
    """The coarse search, then the fine windows along its line; and whether every chunk was read."""
    out = SyncResult(clip="", reference="", matched=False)
    rate = ref.rate
    chunks, searched, complete = _coarse(ref, cl, min_confidence, early)
    best = max(chunks, key=lambda c: c[2]) if chunks else (0, 0, 0.0, 0.0, ())
    out.psr, out.peak_ratio = round(best[2], 2), round(best[3], 2)
    out.confidence = round(confidence(best[2], searched), 6)
    if chunks and out.confidence >= min_confidence and best[4]:  # sure there is a peak, not which one
        return _ambiguous(out, list(best[4])), complete
    if not chunks or out.confidence < min_confidence or out.peak_ratio < MIN_PEAK_RATIO:
        out.reason = "no match: the audio has nothing in common" if chunks else "no match: too short or silent"
        return out, complete
    # Chunks that clear the bar on their own and agree with the best one (within the drift two cameras can have).
    good = [c for c in chunks if confidence(c[2], searched) >= min_confidence and c[3] >= MIN_PEAK_RATIO]
    top = max(good, key=lambda c: c[2])
    good = [c for c in good if abs(c[1] - top[1]) <= 0.02 + MAX_DRIFT * abs(c[0] - top[0])]
    icpt, slope = _fit(np.array([c[0] for c in good]), np.array([c[1] for c in good]))
    margin = max(FINE_REACH, 0.01 + 3.0 / rate + MAX_DRIFT * (0 if len(good) >= 3 else cl.duration))
    start = max(0.0, -icpt)
    end = min(cl.duration, (ref.duration - icpt) / (1 + slope))
    out.overlap = (round(start, 3), round(end, 3))
    # Fine windows spread over the overlap, each searched within `margin` of the coarse line.
    win = min(WINDOW_S, max(0.5, end - start))
    clip_at = cl.window_starts(start, end, win)
    expect = [icpt + slope * (t + win / 2) for t in clip_at]
    refs = ref.windows([(t + e - margin, win + 2 * margin) for t, e in zip(clip_at, expect)])
    clips = cl.windows([(t, win) for t in clip_at])
    windows, items = [], []
    for (c, c_at), (r, r_at), e in zip(clips, refs, expect):
        if len(c) < FINE_RATE // 4 or len(r) < len(c):
            continue
        centre = int(round((c_at + e - r_at) * FINE_RATE))
        reach = int(margin * FINE_RATE)
        windows.append((c_at, r_at))
        items.append((r, c, (centre - reach, centre + reach)))
    ts, offs, zs, repeats = [], [], [], []
    for (c_at, r_at), p in zip(windows, gcc_phat_many(items, FINE_RATE, FINE_BAND) if items else []):
        if confidence(p.z, p.searched) >= min_confidence and p.z >= FINE_MIN_Z:
            ts.append(c_at + win / 2)
            offs.append(r_at + p.lag / FINE_RATE - c_at)
            zs.append(p.z)
            if p.rivals:
                repeats.append([r_at + r / FINE_RATE - c_at for r in p.rivals])
    if ts and len(repeats) * 2 > len(ts):  # most windows repeat within the coarse line's reach
        # the coarse line first: where the chunks (which may hold an onset) put it
        return _ambiguous(out, [icpt + slope * ts[0]] + [c for c in repeats[0] if abs(c - icpt - slope * ts[0]) > 0.01]), complete
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
    return out, complete


def _ambiguous(out: SyncResult, candidates: list[float]) -> SyncResult:
    """Not a match: the peak repeats, so the offset could be any of `candidates`."""
    out.matched, out.ambiguous = False, True
    out.candidates = [round(c, 4) for c in candidates]
    shown = ", ".join(f"{c:+.4f}s" for c in out.candidates)
    out.reason = (f"ambiguous: the sound repeats (a tone, beat or hum), so {len(out.candidates)} offsets fit "
                  f"as well: {shown}")
    return out
