"""Decode the audio of any media file to mono float32 at a fixed rate, with ffmpeg.

ffmpeg resamples (so 44.1 kHz and 48 kHz cameras meet at one rate) and downmixes; its output is
read from a pipe in fixed-size chunks, so memory is the decoded result at the *requested* rate
and nothing more: a 2-hour file at 2 kHz is 58 MB whatever its source rate. Windows are read by
seeking (`-ss` before `-i`, sample-accurate when transcoding), never by decoding everything."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

CHUNK_BYTES = 1 << 20


class AudioError(RuntimeError):
    """The file has no audio ffmpeg can decode; the message says why."""


def _ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise AudioError("ffmpeg is not installed (run scripts/setup.sh)")
    return exe


class TooLong(AudioError):
    """More samples than the caller's limit: it should read windows instead."""


def stream_audio(path: str | Path, rate: int, start: float = 0.0, duration: float | None = None,
                 stream: int = 0, block_seconds: float = 30.0) -> Iterator[np.ndarray]:
    """Blocks of float32 samples in [-1, 1] of audio stream `stream`, decoded by ffmpeg, mono at
    `rate`, from `start` for `duration` seconds (default: to the end). Raises AudioError (after
    the blocks it could decode) when ffmpeg fails."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    args = [_ffmpeg(), "-nostdin", "-v", "error"]
    if start > 0:
        args += ["-ss", f"{start:.6f}"]
    args += ["-i", f"file:{path.resolve()}"]  # file: so no name is read as a protocol or option
    if duration is not None:
        args += ["-t", f"{max(duration, 0.0):.6f}"]
    args += ["-map", f"0:a:{stream}", "-vn", "-sn", "-dn", "-ac", "1", "-ar", str(int(rate)),
             "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1"]
    block_bytes = max(4, int(block_seconds * rate)) * 4
    with tempfile.TemporaryFile() as log:  # stderr to a file: a full pipe can never stall ffmpeg
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        assert proc.stdout is not None
        try:
            tail = b""
            while block := proc.stdout.read(block_bytes):
                block = tail + block
                usable = len(block) - len(block) % 4
                tail = block[usable:]
                if usable:
                    yield np.frombuffer(block[:usable], np.float32).copy()
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        if proc.returncode != 0:
            log.seek(0)
            errors = log.read().decode(errors="replace").strip()
            reason = errors.splitlines()[-1] if errors else f"ffmpeg exited with {proc.returncode}"
            if "matches no streams" in errors:
                reason = "no audio stream"
            raise AudioError(f"{path.name}: {reason}")


def load_audio(path: str | Path, rate: int, start: float = 0.0, duration: float | None = None,
               stream: int = 0, limit: float | None = None) -> np.ndarray:
    """The samples of `stream_audio` in one array. With `limit` (seconds), stop reading and raise
    TooLong as soon as the audio is longer: the caller should read windows instead."""
    chunks: list[np.ndarray] = []
    got = 0
    for block in stream_audio(path, rate, start, duration, stream, block_seconds=CHUNK_BYTES / 4 / rate):
        got += len(block)
        if limit is not None and got > limit * rate:
            raise TooLong(f"{Path(path).name}: longer than {limit:.0f} s")
        chunks.append(block)
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


def audio_duration(path: str | Path) -> float:
    """Seconds of the first audio stream (container duration when the stream has none)."""
    from dam.media.probe import ProbeError, probe

    try:
        info = probe(Path(path))
    except ProbeError as e:
        raise AudioError(str(e)) from None
    if not info.audio:
        raise AudioError(f"{Path(path).name}: no audio stream")
    return float(info.duration or 0.0)
