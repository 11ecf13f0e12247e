"""PyAV (FFmpeg's libavcodec): packets are decoded one by one, so a damaged packet costs its
own frames and decoding goes on, as `ffmpeg -f null` does. The tiny frame for shot detection
is scaled straight from the decoded picture, so every frame costs one small scale."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dam.media.decoders.base import TINY, DecodeError, Frame, VideoSource, reason


class PyAVSource(VideoSource):
    name = "pyav"

    def __init__(self, path: Path, threads: int = 1):
        import av

        super().__init__(path, threads)
        self._av = av
        self._open()
        s = self._stream
        rate = s.average_rate or s.guessed_rate or s.base_rate
        self.fps = float(rate) if rate else 25.0
        self._base = s.start_time if s.start_time is not None else 0
        self._tb = float(s.time_base) if s.time_base else 1.0 / 90000
        self._started = False

    def _open(self) -> None:
        av = self._av
        try:
            self._container = av.open(str(self.path))
            self._stream = self._container.streams.video[0]
            # Keep frames the decoder concealed damage in, as ffmpeg 5 did by default: FFmpeg 8's
            # HEVC decoder drops them, 38 of 92 frames of a damaged clip came back without this.
            self._stream.codec_context.options = {"flags": "output_corrupt"}
        except (av.error.FFmpegError, IndexError, OSError, ValueError) as e:
            raise DecodeError(f"cannot decode (truncated or corrupt file?): {reason(e)}") from None
        self._stream.codec_context.thread_count = self.threads
        self._stream.thread_type = "AUTO" if self.threads != 1 else "SLICE"

    def _index(self, frame, last: int) -> tuple[int, float]:
        pts = frame.pts if frame.pts is not None else frame.dts
        if pts is None:  # a concealed frame with no timestamp: the next on the grid
            return last + 1, (last + 1) / self.fps
        t = (pts - self._base) * self._tb
        return int(round(t * self.fps)), t

    def _seek(self, lo: int) -> None:
        if lo <= 0 and not self._started:
            return  # a fresh file is already at its start
        for ts in (self._base + int(max(lo, 0) / self.fps / self._tb), self._base):
            try:
                self._container.seek(ts, stream=self._stream, backward=True, any_frame=False)
                return
            except self._av.error.FFmpegError:  # an index the damage broke: try the start
                continue
        self._container.close()  # not even the start can be sought: open the file again
        self._open()

    def _frames(self) -> Iterator:
        av = self._av
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except (av.error.FFmpegError, OSError, ValueError):
                break  # the container itself is broken from here on: what came before is kept
            try:
                frames = packet.decode()
            except (av.error.FFmpegError, ValueError):
                continue  # a damaged packet costs its own frames only
            yield from frames
        try:  # what the decoder still holds
            yield from self._stream.codec_context.decode(None)
        except (av.error.FFmpegError, ValueError):
            pass

    def read(self, lo: int, hi: int, size: tuple[int, int], wanted: set[int], tiny: bool = True) -> Iterator[Frame]:
        self._seek(lo)
        self._started = True
        last = lo - 1
        for frame in self._frames():
            i, t = self._index(frame, last)
            if i <= last:
                continue  # before the range (seek lands on a keyframe) or a repeated timestamp
            if i >= hi:
                break
            last = i
            if i < lo:
                continue
            try:
                # The tiny frame costs 1.4 of ~22 ms CPU per 1080p H.264 frame: reading the whole
                # picture, whoever scales it (OpenCV's INTER_AREA on the planes costs the same).
                # FAST_BILINEAR costs 0.4 ms but samples a few lines, and aliased textures flicker.
                small = (frame.reformat(width=TINY[0], height=TINY[1], format="rgb24", interpolation="AREA")
                         .to_ndarray() if tiny else None)
                image = (frame.reformat(width=size[0], height=size[1], format="rgb24", interpolation="AREA")
                         .to_ndarray() if i in wanted else None)
            except (self._av.error.FFmpegError, ValueError):
                continue
            yield Frame(i, t, small, np.ascontiguousarray(image) if image is not None else None)
        self._stream.codec_context.flush_buffers()

    def close(self) -> None:
        self._container.close()
