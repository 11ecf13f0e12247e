"""Decode the audio of any media file to mono float32 at a fixed rate, with FFmpeg's libraries.

libswresample resamples (so 44.1 kHz and 48 kHz cameras meet at one rate) and downmixes frame
by frame, so memory is the decoded result at the *requested* rate and nothing more: a 2-hour
file at 2 kHz is 58 MB whatever its source rate. Windows are read by seeking to the packet
before them and dropping the samples up to their start, never by decoding everything."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

CHUNK_BYTES = 1 << 20


class AudioError(RuntimeError):
    """The file has no audio that can be decoded; the message says why."""


class TooLong(AudioError):
    """More samples than the caller's limit: it should read windows instead."""


def stream_audio(path: str | Path, rate: int, start: float = 0.0, duration: float | None = None,
                 stream: int = 0, block_seconds: float = 30.0) -> Iterator[np.ndarray]:
    """Blocks of float32 samples in [-1, 1] of audio stream `stream`, mono at `rate`, from `start`
    for `duration` seconds (default: to the end). Decoded in this process by FFmpeg's libraries
    (PyAV): no process to start per file or window, which is most of the cost of a short clip.
    The file is opened as a Python file object, so no name is ever read as a protocol or option."""
    import av

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    block = max(1, int(block_seconds * rate))
    remaining = None if duration is None else max(0, int(round(duration * rate)))
    try:
        with open(path, "rb") as fh, _open(fh, stream) as container:
            if len(container.streams.audio) <= stream:
                raise AudioError(f"{path.name}: no audio stream")
            st = container.streams.audio[stream]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=int(rate))
            skip = 0
            if start > 0:  # lands on a packet at or before `start`; the samples before it are dropped
                container.seek(int(start / st.time_base), stream=st, backward=True)
            pending: list[np.ndarray] = []
            held = 0
            first = True
            for frame in _batched(_frames(container, st), st.rate):
                if first and frame is not None:
                    first = False
                    if start > 0:
                        skip = max(0, int(round((start - float(frame.time or 0.0)) * rate)))
                for out in resampler.resample(frame):
                    x = out.to_ndarray().reshape(-1)
                    if skip:
                        cut = min(skip, len(x))
                        x, skip = x[cut:], skip - cut
                    if remaining is not None:
                        x = x[:remaining]
                        remaining -= len(x)
                    if len(x):
                        pending.append(x)
                        held += len(x)
                    if held >= block:
                        yield np.concatenate(pending).astype(np.float32, copy=False)
                        pending, held = [], 0
                if remaining == 0:
                    break
            if pending:
                yield np.concatenate(pending).astype(np.float32, copy=False)
    except AudioError:
        raise
    except (av.FFmpegError, EOFError, ValueError, OSError) as e:
        raise AudioError(f"{path.name}: {e}") from None


# Demuxer options. probesize: the header of WAV/FLAC/MP4/MKV/Ogg (FFmpeg's default, 5 MB, reads
# most of a WAV). max_size: WAV packets of 64 KB instead of 4 KB, a sixteenth of the per-packet work.
OPEN_OPTIONS = {"probesize": "65536", "max_size": "65536"}


@contextlib.contextmanager
def _open(fh, stream: int):
    """The container, probed only as far as its header: FFmpeg's default probe decodes up to
    5 MB, which for a WAV file is most of it (10 ms of a 60 s clip's 25). A stream whose
    parameters are not in the header (MPEG-TS, say) is opened again with the full probe."""
    import av

    container = av.open(fh, mode="r", options=OPEN_OPTIONS)
    audio = container.streams.audio
    if len(audio) <= stream or not audio[stream].codec_context.sample_rate:
        container.close()
        fh.seek(0)
        container = av.open(fh, mode="r")
    try:
        yield container
    finally:
        container.close()


def _batched(frames, rate: int, seconds: float = 1.0):
    """Decoded frames joined into frames of about `seconds`: a codec frame is 1024 samples (AAC)
    or 8 KB (PCM), and handing each to the resampler on its own costs more than decoding it.
    A change of format, layout or rate starts a new batch; None (the flush) passes through."""
    import av

    held: list = []
    size = 0

    def joined():
        if len(held) == 1:
            return held[0]
        f0 = held[0]
        out = av.AudioFrame.from_ndarray(np.concatenate([f.to_ndarray() for f in held], axis=1),
                                         format=f0.format.name, layout=f0.layout.name)
        out.sample_rate, out.pts, out.time_base = f0.sample_rate, f0.pts, f0.time_base
        return out

    for frame in frames:
        if held and (frame is None or (frame.format.name, frame.layout.name, frame.sample_rate)
                     != (held[0].format.name, held[0].layout.name, held[0].sample_rate)):
            yield joined()
            held, size = [], 0
        if frame is None:
            yield None
            continue
        held.append(frame)
        size += frame.samples
        if size >= seconds * (frame.sample_rate or rate):
            yield joined()
            held, size = [], 0
    if held:
        yield joined()


def _frames(container, st):
    """Decoded frames, then None (which tells the resampler to flush its tail). A packet that
    does not decode (a damaged stretch) becomes silence of its length, so everything after it
    keeps its time; a file where most packets are bad is an error."""
    import av

    good = bad = 0
    for packet in container.demux(st):
        try:
            frames = packet.decode()
        except av.InvalidDataError:
            bad += 1
            if bad > 10 and bad > good:
                raise
            n = int(round(float((packet.duration or 0) * st.time_base) * st.rate)) if st.time_base else 0
            if n > 0:
                frames = [_silence(st, n)]
            else:
                continue
        good += 1
        yield from frames
    yield None


_DTYPES = {"u8": np.uint8, "s16": np.int16, "s32": np.int32, "s64": np.int64, "flt": np.float32, "dbl": np.float64}


def _silence(st, samples: int):
    """A frame of zeros in the stream's own sample format, layout and rate."""
    import av

    fmt, layout = st.codec_context.format, st.codec_context.layout
    channels = len(layout.channels)
    shape = (channels, samples) if fmt.is_planar else (1, samples * channels)
    zero = 128 if fmt.name.startswith("u8") else 0
    frame = av.AudioFrame.from_ndarray(np.full(shape, zero, dtype=_DTYPES[fmt.name.rstrip("p")]),
                                       format=fmt.name, layout=layout.name)
    frame.sample_rate = st.rate
    return frame


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
