"""Multi-camera sync and speech-to-text on generated shoots with known truth.

Sync: the same clip pairs (espeak-ng speech over room noise; the second camera at another
rate, codec, gain, mic band and noise, some drifting) go through dam's GCC-PHAT, the
`audio-offset-finder` package (MFCC cross-correlation) and `syncstart` (plain FFT
cross-correlation), each in this process, one pair at a time. Reported: median and 90th-percentile
absolute offset error, seconds per pair, and dam's speed-up over each peer. Unrelated pairs give
the no-match margin (peak ratio of chance peaks vs true ones). Transcription: real-time factor
and WER of pocketsphinx on generated speech.

Peers install with `pip install syncstart librosa matplotlib` and `pip install --no-deps
audio-offset-finder` (its wheel pins numpy<2 but runs on numpy 2); a missing one is reported,
not fatal."""

from __future__ import annotations

import contextlib
import io
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dam.audio.samples import SENTENCES, Camera, event, record
from dam.audio.sync import sync_pair

PAIRS = 8
VOICES = ["en-us+f2", "en-gb-x-rp", "en-us+m3"]  # neighbours differ, so "unrelated" pairs share no recording


def make_pairs(folder: Path, count: int = PAIRS) -> list[tuple[Path, Path, float]]:
    rng = np.random.default_rng(42)
    kinds = [(44100, "aac", ".m4a", (300, 3000)), (32000, "flac", ".flac", (120, 6000)), (48000, "pcm_s16le", ".wav", None)]
    pairs = []
    for k in range(count):
        src = event(80, seed=100 + k, sentences=SENTENCES[k % 8:] + SENTENCES[:k % 8], voice=VOICES[k % len(VOICES)])
        off = round(float(rng.uniform(2, 18)), 3)
        rate, codec, suffix, band = kinds[k % 3]
        ref = record(src, Camera(0, 60, 48000, snr_db=25), folder / f"ref{k}.wav", seed=k)
        clip = record(src, Camera(off, 50, rate, gain=float(rng.uniform(0.3, 2)), band=band, codec=codec, suffix=suffix,
                                  snr_db=float(rng.uniform(12, 25)), drift_ppm=20.0 * (k % 4 == 3)),
                      folder / f"clip{k}{suffix}", seed=50 + k)
        pairs.append((ref, clip, off))
    return pairs


def run_dam(ref: Path, clip: Path) -> float | None:
    r = sync_pair(ref, clip)
    return r.offset if r.matched else None


def run_aof(ref: Path, clip: Path) -> float | None:
    from audio_offset_finder.audio_offset_finder import find_offset_between_files

    with contextlib.redirect_stderr(io.StringIO()):
        return float(find_offset_between_files(str(ref), str(clip), fs=8000)["time_offset"])


def run_syncstart(ref: Path, clip: Path) -> float | None:
    import syncstart

    argv, sys.argv = sys.argv, ["syncstart"]
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
            file, offset = syncstart.file_offset(in1=str(ref), in2=str(clip), video=False, begin=0, take=60,
                                                 normalize=False, denoise=False, lowpass=0, crop=False, show=False,
                                                 quiet=True)
    finally:
        sys.argv = argv
    # syncstart names the file to cut: cutting the reference means the clip starts later.
    return float(offset) if str(file) == str(ref) else -float(offset)


def measure(peers: dict, pairs, reps: int = 2) -> dict:
    """Every method on every pair, interleaved (so load from anything else on the machine hits
    them alike), the fastest of `reps` runs per pair; errors from the first run."""
    seconds = {name: [float("inf")] * len(pairs) for name in peers}
    got: dict[str, list] = {name: [None] * len(pairs) for name in peers}
    for rep in range(reps):
        for i, (ref, clip, _) in enumerate(pairs):
            for name, fn in peers.items():
                t0 = time.perf_counter()
                value = fn(ref, clip)
                seconds[name][i] = min(seconds[name][i], time.perf_counter() - t0)
                if rep == 0:
                    got[name][i] = value
    out = {}
    for name in peers:
        errors = [abs(g - p[2]) * 1e3 for g, p in zip(got[name], pairs) if g is not None]
        out[name] = {"median_abs_error_ms": round(statistics.median(errors), 4) if errors else None,
                     "p90_abs_error_ms": round(float(np.percentile(errors, 90)), 4) if errors else None,
                     "max_abs_error_ms": round(max(errors), 4) if errors else None,
                     "no_match": sum(g is None for g in got[name]),
                     "seconds_per_pair": round(statistics.median(seconds[name]), 4)}
    return out


def null_margin(pairs) -> dict:
    """Peak ratios of true pairs vs unrelated ones (each clip against another event's reference)."""
    true = [sync_pair(r, c) for r, c, _ in pairs]
    unrelated = [sync_pair(pairs[(i + 1) % len(pairs)][0], c) for i, (_, c, _) in enumerate(pairs)]
    return {"true_min_peak_ratio": min(r.peak_ratio for r in true),
            "unrelated_max_peak_ratio": max(r.peak_ratio for r in unrelated),
            "unrelated_max_psr": max(r.psr for r in unrelated),
            "unrelated_false_matches": sum(r.matched for r in unrelated)}


def transcription(folder: Path) -> dict:
    import jiwer

    from dam.audio.transcribe import load_backend, transcribe

    backend = load_backend("pocketsphinx")
    out = {}
    for snr in (30, 15):
        script: list = []
        src = event(40, seed=7, sentences=SENTENCES, pause=1.5, script=script, loop=False)
        path = record(src, Camera(0, 40, 44100, snr_db=snr, codec="aac", suffix=".m4a"), folder / f"talk{snr}.m4a")
        tr = transcribe(path, backend)
        ref = re.sub(r"[^a-z' ]", "", " ".join(t for _, _, t in script).lower())
        out[f"snr_{snr}db"] = {"wer": round(jiwer.wer(ref, tr.text), 3), "rtf": round(tr.seconds / tr.duration, 3),
                               "audio_seconds": tr.duration, "segments": len(tr.segments)}
    return out


def run() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pairs = make_pairs(folder)
        res: dict = {"pairs": len(pairs), "clip_seconds": 50, "reference_seconds": 60}
        peers = {}
        for name, fn in {"dam": run_dam, "audio_offset_finder": run_aof, "syncstart": run_syncstart}.items():
            try:
                fn(*pairs[0][:2])  # warm-up: imports, FFT plans
                peers[name] = fn
            except Exception as e:  # a peer that cannot install or run here is reported, not fatal
                res[name] = {"error": f"{type(e).__name__}: {e}"[:300]}
        res.update(measure(peers, pairs))
        for name in ("audio_offset_finder", "syncstart"):
            if "seconds_per_pair" in res[name]:
                res[f"speedup_vs_{name}"] = round(res[name]["seconds_per_pair"] / res["dam"]["seconds_per_pair"], 2)
        res["dam_median_error_ms"] = res["dam"]["median_abs_error_ms"]
        res["null"] = null_margin(pairs)
        res["transcription"] = transcription(folder)
    return res


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
