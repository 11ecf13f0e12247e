"""Generated multi-camera shoots with known truth, shared by the audio tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dam.audio.samples import Camera, event, record

CAMS = {
    "a": Camera(0.0, 45, 48000),
    "b": Camera(12.345, 40, 44100, gain=0.3, band=(300, 3000), codec="aac", suffix=".m4a"),
    "c": Camera(25.0, 35, 32000, gain=2.0, band=(120, 6000), codec="flac", suffix=".flac", drift_ppm=80, snr_db=12),
}


@pytest.fixture(scope="session")
def shoot(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("shoot")
    src = event(62, seed=0)
    paths = {k: record(src, c, d / f"cam_{k}{c.suffix}", seed=i) for i, (k, c) in enumerate(CAMS.items())}
    other = event(40, seed=7, voice="en-gb-x-rp", sentences=[
        "Completely different words are spoken here by someone else.",
        "Nothing about boats or budgets is in this recording at all.",
        "A second speaker reads the weather for the mountains."])
    paths["unrelated"] = record(other, Camera(0, 38, 44100), d / "unrelated.wav", seed=9)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "aevalsrc=0.3*sin(2*PI*(220+110*mod(floor(t*2)\\,4))*t)+0.2*sin(2*PI*330*t):s=44100:d=30",
                    str(d / "music.wav")], check=True)
    paths["music"] = d / "music.wav"
    return paths
