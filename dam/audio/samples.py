"""Generated audio with known truth, for tests, benchmarks and demos: one "event" (espeak-ng
speech with pauses over room noise) recorded by several "cameras" that start at different
times, run at different sample rates and gains, colour the sound with their own filters, add
their own noise, and may drift. Nothing is downloaded; everything is reproducible from a seed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import butter, sosfilt

from dam.audio.load import load_audio

RATE = 48000

SENTENCES = [
    "The quarterly budget meeting starts at nine.",
    "Please bring the camera batteries and the blue tripod.",
    "We will film the harbour at sunset, weather permitting.",
    "The drone needs a permit from the city before Friday.",
    "Interviews with the fishermen happen on the second day.",
    "Keep the microphones away from the engine room.",
    "Lunch is served on the upper deck at half past twelve.",
    "Everyone meets at the lighthouse for the final shot.",
]


def speak(text: str, path: Path, voice: str = "en-us+f2", speed: int = 140, pitch: int = 50) -> Path:
    """espeak-ng speech to a WAV file (argument list, no shell)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (run scripts/setup.sh)")
    subprocess.run([exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path), text], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def event(seconds: float, seed: int = 0, sentences: list[str] | None = None, voice: str = "en-us+f2",
          pause: float = 1.2, script: list[tuple[float, float, str]] | None = None, loop: bool = True) -> np.ndarray:
    """`seconds` of speech at RATE: sentences separated by pauses, over quiet room noise. A
    sentence said again is said at another speed and pitch, so no two stretches are alike.
    `script`, when given, receives (start, end, text) of every sentence said in full. Without
    `loop`, each sentence is said once and the rest is room noise."""
    rng = np.random.default_rng(seed)
    lines = sentences or SENTENCES
    out = np.zeros(int(seconds * RATE), np.float32)
    at, i = int(0.5 * RATE), 0
    with tempfile.TemporaryDirectory() as tmp:
        while at < len(out) and (loop or i < len(lines)):
            first = i < len(lines)
            speed, pitch = (140, 50) if first else (int(rng.integers(115, 175)), int(rng.integers(30, 70)))
            c = load_audio(speak(lines[i % len(lines)], Path(tmp) / "s.wav", voice, speed, pitch), RATE) * 0.5
            n = min(len(c), len(out) - at)
            out[at:at + n] += c[:n]
            if script is not None and n == len(c):
                script.append((at / RATE, (at + n) / RATE, lines[i % len(lines)]))
            at += n + int(pause * RATE * rng.uniform(0.7, 1.3))
            i += 1
    room = sosfilt(butter(2, 800, "low", fs=RATE, output="sos"), rng.normal(0, 0.02, len(out)))
    return (out + room).astype(np.float32)


@dataclass
class Camera:
    start: float  # event time of the camera's first sample
    seconds: float
    rate: int = RATE
    gain: float = 1.0
    drift_ppm: float = 0.0  # the camera's clock runs fast by this much
    snr_db: float = 20.0
    band: tuple[float, float] | None = None  # (high-pass, low-pass) Hz: the mic's colouring
    codec: str = "pcm_s16le"
    suffix: str = ".wav"


def record(source: np.ndarray, cam: Camera, path: Path, seed: int = 1) -> Path:
    """What `cam` hears of `source`, written to `path` with ffmpeg at the camera's rate and codec.
    Camera time t is event time start + t * (1 + drift)."""
    rng = np.random.default_rng(seed)
    t = cam.start + np.arange(int(cam.seconds * cam.rate)) / cam.rate * (1 + cam.drift_ppm * 1e-6)
    x = np.interp(t * RATE, np.arange(len(source)), source, left=0.0, right=0.0)
    if cam.band:
        x = sosfilt(butter(2, cam.band, "bandpass", fs=cam.rate, output="sos"), x)
    power = np.mean(x ** 2) + 1e-12
    x = x + rng.normal(0, np.sqrt(power / 10 ** (cam.snr_db / 10)), len(x))
    x = np.clip(x * cam.gain, -1, 1).astype("<f4")
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar", str(cam.rate), "-ac", "1",
                    "-i", "pipe:0", "-c:a", cam.codec, str(path)], input=x.tobytes(), check=True)
    return path
