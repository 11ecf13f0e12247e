"""torchcodec (PyTorch's decoder on the system's FFmpeg libraries): batches by frame range at
the asked size. Not installed by default (`pip install torchcodec`); on CPU it measured slower
than PyAV and decord (benchmarks/decoders.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2

from dam.media.decoders.base import TINY, DecodeError, Frame, VideoSource, reason

CHUNK = 48


class TorchCodecSource(VideoSource):
    name = "torchcodec"

    def __init__(self, path: Path, threads: int = 1):
        super().__init__(path, threads)
        try:
            from torchcodec.decoders import VideoDecoder
        except ImportError:
            raise DecodeError("DAM_DECODER=torchcodec needs the torchcodec package (pip install torchcodec)") from None
        self._make = VideoDecoder
        self._decoders: dict[tuple[int, int], object] = {}
        meta = self._decoder((64, 36)).metadata
        self.fps = float(meta.average_fps or 25.0)

    def _decoder(self, size: tuple[int, int]):
        if size not in self._decoders:
            from torchcodec.transforms import Resize

            try:
                self._decoders[size] = self._make(str(self.path), num_ffmpeg_threads=self.threads,
                                                  dimension_order="NHWC", transforms=[Resize((size[1], size[0]))])
            except Exception as e:  # RuntimeError/ValueError from its C++ core
                raise DecodeError(f"cannot decode (truncated or corrupt file?): {reason(e)}") from None
        return self._decoders[size]

    def read(self, lo: int, hi: int, size: tuple[int, int], wanted: set[int], tiny: bool = True) -> Iterator[Frame]:
        dec = self._decoder(size)
        hi = min(hi, dec.metadata.num_frames or hi)
        for pos in range(max(lo, 0), hi, CHUNK):
            idx = list(range(pos, min(pos + CHUNK, hi)))
            if not tiny:
                idx = [j for j in idx if j in wanted]
            for j, frame, t in self._batch(dec, idx):
                small = cv2.resize(frame, TINY, interpolation=cv2.INTER_AREA) if tiny else None
                yield Frame(j, t, small, frame if j in wanted else None)

    def _batch(self, dec, idx: list[int]):
        if not idx:
            return
        try:
            b = dec.get_frames_at(idx)
            yield from zip(idx, b.data.numpy(), b.pts_seconds.tolist())
            return
        except Exception:  # damage somewhere in this batch: frame by frame
            pass
        for j in idx:
            try:
                b = dec.get_frames_at([j])
                yield j, b.data.numpy()[0], float(b.pts_seconds[0])
            except Exception:
                continue
