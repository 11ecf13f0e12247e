"""Decode the audio of any media file to mono float32 at a fixed rate, with FFmpeg's libraries.

libswresample resamples (so 44.1 kHz and 48 kHz cameras meet at one rate) and downmixes about
a second at a time, so memory is the decoded result at the *requested* rate and nothing more: a
2-hour file at 2 kHz is 58 MB whatever its source rate. Windows are read by seeking to the packet
before them and dropping the samples up to their start, never by decoding everything."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dam.media.probe import ProbeError, probe

CHUNK_BYTES = 1 << 20


class AudioError(RuntimeError):
    """The file has no audio that can be decoded; the message says why."""


def stream_audio(path: str | Path, rate: int, start: float = 0.0, duration: float | None = None,
                 stream: int = 0, block_seconds: float = 30.0) -> Iterator[np.ndarray]:
    """Blocks of float32 samples in [-1, 1] of audio stream `stream`, mono at `rate`, from `start`
    for `duration` seconds (default: to the end). Decoded in this process by FFmpeg's libraries
    (PyAV): no process to start per file or window, which is most of the cost of a short clip."""
    with AudioReader(path, stream) as reader:
        yield from reader.blocks(rate, start, duration, block_seconds)


class AudioReader:
    """One file held open for several reads: a window read by seeking in an open file costs a
    fraction of opening it again. The file is opened as a Python file object, so no name is ever
    read as a protocol or option. `fast`: see FAST_RESAMPLER."""

    def __init__(self, path: str | Path, stream: int = 0, fast: bool = False):
        import av

        self.path = Path(path)
        if not self.path.is_file():
            raise AudioError(f"{self.path}: no such file")
        self._options = FAST_RESAMPLER if fast else None
        self._container = None
        try:
            self._fh = open(self.path, "rb")
        except OSError as e:
            raise AudioError(f"{self.path.name}: {e.strerror}") from None
        try:
            self._container = _open(self._fh, stream)
            if len(self._container.streams.audio) <= stream:
                raise AudioError(f"{self.path.name}: no audio stream")
        except AudioError:
            self.close()
            raise
        except (av.FFmpegError, EOFError, ValueError, OSError) as e:
            self.close()
            raise AudioError(f"{self.path.name}: {e}") from None
        self._index = stream
        self._stream = st = self._container.streams.audio[stream]
        # Time 0 is the stream's first sample, which is where a read from the start begins: an
        # MPEG-TS stream's timestamps start anywhere, an MP3's after the encoder's delay.
        self._origin = float(st.start_time * st.time_base) if st.start_time is not None and st.time_base else 0.0
        self._moved = False

    @property
    def duration(self) -> float:
        """Seconds, from the stream's header (the container's when the stream has none); 0 if unknown."""
        st = self._stream
        if st.duration and st.time_base:
            return float(st.duration * st.time_base)
        return float(self._container.duration or 0) / 1e6

    @property
    def rate(self) -> int:
        """The stream's own sample rate (Hz)."""
        return int(self._stream.rate or 0)

    @property
    def channels(self) -> int:
        return int(self._stream.channels or 0)

    @property
    def exact_seek(self) -> bool:
        """Whether a read that seeks starts on the sample asked for (see EXACT_SEEK)."""
        return self._container.format.name in EXACT_SEEK

    def read(self, rate: int, start: float = 0.0, duration: float | None = None) -> np.ndarray:
        chunks = list(self.blocks(rate, start, duration, block_seconds=CHUNK_BYTES / 4 / rate))
        return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)

    def blocks(self, rate: int, start: float = 0.0, duration: float | None = None,
               block_seconds: float = 30.0, stereo: bool = False) -> Iterator[np.ndarray]:
        """Mono blocks; with `stereo`, (samples, 2) blocks (a mono stream in both channels)."""
        import av

        container, st = self._container, self._stream
        block = max(1, int(block_seconds * rate))
        remaining = None if duration is None else max(0, int(round(duration * rate)))
        try:
            resampler = av.AudioResampler(format="flt", layout="stereo" if stereo else "mono", rate=int(rate), options=self._options)
            seeks = start > 0 or self._moved
            if seeks and start <= 0 and not self.exact_seek:  # opened again: its seek to 0 may not be exact either
                self._container.close()
                self._fh.seek(0)
                self._container = container = _open(self._fh, self._index)
                self._stream = st = container.streams.audio[self._index]
                seeks = False
            if seeks:  # lands on a packet at or before `start`; the samples before it are dropped
                container.seek(int((self._origin + max(0.0, start - PREROLL)) / st.time_base), stream=st, backward=True)
            self._moved = True
            pending: list[np.ndarray] = []
            held = 0
            frames = _frames(container, st)
            first = next(frames)
            skip = 0
            if seeks and first is not None and first.time is not None:
                skip = int(round((self._origin + start - float(first.time)) * rate))
                if skip < 0:  # the first packet starts after `start`: its place is kept with silence
                    pending.append(np.zeros((-skip, 2) if stereo else -skip, np.float32))
                    held, skip = -skip, 0
            limit = None  # input samples up to the window's end, and a little for the resampler's delay
            if duration is not None and first is not None:
                limit = int((duration + skip / rate + 0.01) * first.sample_rate) + 1
            for frame in _batched(itertools.chain([first], frames), limit=limit):
                for out in resampler.resample(frame):
                    x = out.to_ndarray().reshape((-1, 2) if stereo else -1)
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
            raise AudioError(f"{self.path.name}: {e}") from None

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None
        self._fh.close()

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# libswresample for callers that use only the lower 90% of the band (sync): a filter a quarter
# as long (rolling off in the top 10%), and 128 filter phases instead of 1024 (a phase error of
# 1/256 of a sample), used exactly where the rate ratio needs no more (44.1 -> 8 kHz: 80).
# Setting up the filter bank was most of the cost of a short window.
FAST_RESAMPLER = {"filter_size": "8", "phase_shift": "7", "exact_rational": "1"}

# Containers whose seeks land where their timestamps say, to a fraction of a sample once the
# stream's start time is allowed for (measured on each). Not in it: Matroska/WebM (timestamps in
# whole ms: up to 0.7 ms off), MPEG-PS and ASF (50-90 ms off). Those are read from the start.
EXACT_SEEK = frozenset({"wav", "w64", "aiff", "caf", "flac", "mp3", "aac", "ac3", "ogg", "avi", "mxf",
                        "mpegts", "mov,mp4,m4a,3gp,3g2,mj2"})

# After a seek, an MDCT codec (AAC, Opus) needs one frame to overlap with before its output is
# right: windows are decoded from this much earlier and the extra samples dropped.
PREROLL = 0.05


# Demuxer options. probesize: the header of WAV/FLAC/MP4/MKV/Ogg (FFmpeg's default, 5 MB, reads
# most of a WAV). max_size: WAV packets of 64 KB instead of 4 KB, a sixteenth of the per-packet work.
OPEN_OPTIONS = {"probesize": "65536", "max_size": "65536"}


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
    return container


def _batched(frames, seconds: float = 1.0, limit: int | None = None):
    """Decoded frames joined into frames of about `seconds` in an AudioFifo (in C): a codec frame
    is 1024 samples (AAC) or 8 KB (PCM), and handing each to the resampler on its own, or
    through numpy, costs more than decoding it. None (the flush) ends the batches and passes on;
    so does having taken `limit` samples (a window: nothing past it is decoded). A change of
    format or rate mid-stream is an error (ValueError), as it is for the resampler."""
    import av

    fifo = None
    taken = 0
    for frame in frames:
        if frame is None:
            break
        frame.pts = None  # the FIFO checks timestamps run on from 0, which they do not after a seek
        if fifo is None:
            fifo = av.AudioFifo()
        fifo.write(frame)
        taken += frame.samples
        if limit is not None and taken >= limit:
            break
        if fifo.samples >= seconds * frame.sample_rate:
            yield fifo.read()
    if fifo is not None and fifo.samples:
        yield fifo.read()
    yield None


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
               stream: int = 0) -> np.ndarray:
    """The samples of `stream_audio` in one array."""
    with AudioReader(path, stream) as reader:
        return reader.read(rate, start, duration)


def audio_duration(path: str | Path) -> float:
    """Seconds of the first audio stream (container duration when the stream has none)."""
    try:
        info = probe(Path(path))
    except ProbeError as e:
        raise AudioError(str(e)) from None
    if not info.audio:
        raise AudioError(f"{Path(path).name}: no audio stream")
    return float(info.duration or 0.0)
