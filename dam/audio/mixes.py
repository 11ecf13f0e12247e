"""Generated dialogue-over-music mixes with known stems, for the separation tests, benchmark
and demos: espeak-ng speech (dam.audio.samples.event) in the centre over music that ffmpeg's
`aevalsrc` plays from a seeded score (a looped chord progression, bass line, melody, kick and
hi-hat, panned wide), at a chosen music level. Nothing is downloaded; a seed gives the same
mix every time, and the clean speech and music are returned as the truth to score against."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dam.audio.samples import RATE, SENTENCES, event

MAJOR = [0, 2, 4, 5, 7, 9, 11]
PENTATONIC = [0, 2, 4, 7, 9]


@dataclass
class Mix:
    path: Path
    speech: np.ndarray  # mono float32 at RATE: the dialogue as it sits in every channel
    music: np.ndarray  # (channels, n) float32 at RATE
    script: list[tuple[float, float, str]] = field(default_factory=list)  # (start, end, words) said

    @property
    def text(self) -> str:
        return " ".join(t for _, _, t in self.script)


def _pick(options: list[str], index: str) -> str:
    """An aevalsrc expression that is options[index] (index an integer-valued expression)."""
    expr = options[-1]
    for i in range(len(options) - 2, -1, -1):
        expr = f"if(eq({index}\\,{i})\\,{options[i]}\\,{expr})"
    return expr


def score(seed: int) -> tuple[str, str]:
    """(left, right) aevalsrc expressions of a seeded tune: 4 bars that repeat, as most music does."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / float(rng.uniform(90, 130))
    root = float(rng.uniform(110, 196))
    degrees = [0, *rng.choice([1, 3, 4, 5], 3, replace=False).tolist()]
    chords = [[MAJOR[(d + k) % 7] + 12 * ((d + k) // 7) for k in (0, 2, 4)] for d in degrees]
    bar = f"mod(floor(t/{4 * beat:.5f})\\,4)"
    tone = [_pick([f"{root * 2 ** (c[k] / 12):.3f}" for c in chords], bar) for k in range(3)]
    env = f"(0.55+0.45*exp(-4*mod(t\\,{beat:.5f})))"
    organ = "+".join(f"sin(2*PI*{f}*t)+0.4*sin(4*PI*{f}*t)+0.15*sin(6*PI*{f}*t)" for f in tone)
    low = _pick([f"{root / 2 * 2 ** (c[0] / 12):.3f}" for c in chords], bar)
    bass = f"sin(2*PI*{low}*t)"
    steps = [f"{root * 2 * 2 ** (PENTATONIC[int(i)] / 12):.3f}" for i in rng.integers(0, 5, 8)]
    half = beat / 2
    step = f"mod(floor(t/{half:.5f})\\,8)"
    melody = f"sin(2*PI*{_pick(steps, step)}*t)*exp(-3*mod(t\\,{half:.5f}))"
    kick = f"sin(2*PI*50*t)*exp(-25*mod(t\\,{beat:.5f}))"
    hat = f"(random(0)-0.5)*exp(-60*mod(t+{half:.5f}\\,{beat:.5f}))"
    left = f"0.06*({organ})*{env}+0.25*{bass}+0.35*{kick}+0.5*{hat}+0.08*{melody}"
    right = f"0.04*({organ})*{env}+0.25*{bass}+0.35*{kick}+0.15*{hat}+0.3*{melody}"
    return left, right


def music(seconds: float, seed: int, channels: int = 2) -> np.ndarray:
    """(channels, n) float32 at RATE, played by ffmpeg's aevalsrc."""
    left, right = score(seed)
    expr = f"{left}|{right}" if channels == 2 else f"({left}+{right})/2"
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                          f"aevalsrc={expr}:s={RATE}:d={seconds}", "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<f4").reshape(-1, channels).T.copy()


def active_rms(x: np.ndarray, frame: int = RATE // 50) -> float:
    """RMS over the 20 ms frames that are not near-silent: speech's level while someone talks."""
    n = len(x) // frame
    rms = np.sqrt(np.mean(np.square(x[: n * frame].reshape(n, frame), dtype=np.float64), axis=1))
    on = rms > 0.1 * rms.max()
    return float(np.sqrt(np.mean(rms[on] ** 2))) if on.any() else 0.0


def make_mix(path: Path, seconds: float = 20.0, music_db: float = 0.0, seed: int = 0, channels: int = 2,
             sentences: list[str] | None = None, video: bool = False, codec: str = "pcm_s16le") -> Mix:
    """Speech over music `music_db` dB relative to the speech's level while talking, written to
    `path` (WAV, or MP4 with a test picture when `video`)."""
    script: list[tuple[float, float, str]] = []
    lines = sentences or SENTENCES[seed % 4:seed % 4 + 4]
    speech = event(seconds, seed=seed, sentences=lines, pause=1.0, script=script, loop=False)
    tune = music(seconds, seed, channels)[:, : len(speech)]
    tune *= active_rms(speech) * 10 ** (music_db / 20) / max(active_rms(tune.mean(axis=0)), 1e-9)
    mixed = np.clip(speech[None, :] + tune, -1, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    pic = ["-f", "lavfi", "-i", f"testsrc=d={seconds}:s=160x90:r=10"] if video else []
    enc = ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "192k", "-shortest"] if video else ["-c:a", codec]
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar", str(RATE), "-ac", str(channels),
                    "-i", "pipe:0", *pic, *enc, str(path)], input=mixed.T.astype("<f4").tobytes(), check=True)
    return Mix(path, speech, tune.astype(np.float32), script)
