"""decord: resizes inside the decoder and reads frames in batches. A batch that hits damage
is read again frame by frame, so one bad frame costs itself (decord then seeks from the last
keyframe, so frames after the damage up to the next keyframe are often lost too)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from dam.media.decoders.base import TINY, DecodeError, Frame, VideoSource, reason

CHUNK = 48


class DecordSource(VideoSource):
    name = "decord"

    def __init__(self, path: Path, threads: int = 1):
        super().__init__(path, threads)
        self._readers: dict[tuple[int, int], object] = {}
        first = self._reader((64, 36))
        self.fps = float(first.get_avg_fps()) or 25.0

    def _reader(self, size: tuple[int, int]):
        import decord

        if size not in self._readers:
            try:
                self._readers[size] = decord.VideoReader(str(self.path), width=size[0], height=size[1],
                                                         num_threads=self.threads)
            except Exception as e:  # decord raises its own error types from C++
                raise DecodeError(f"cannot decode (truncated or corrupt file?): {reason(e)}") from None
        return self._readers[size]

    def _batch(self, vr, idx: list[int]) -> Iterator[tuple[int, np.ndarray]]:
        try:
            yield from zip(idx, vr.get_batch(idx).asnumpy())
            return
        except Exception:  # decord's C++ errors: damage somewhere in this batch
            pass
        for j in idx:
            try:
                yield j, vr.get_batch([j]).asnumpy()[0]
            except Exception:
                continue

    def read(self, lo: int, hi: int, size: tuple[int, int], wanted: set[int], tiny: bool = True) -> Iterator[Frame]:
        vr = self._reader(size)
        hi = min(hi, len(vr))
        for pos in range(max(lo, 0), hi, CHUNK):
            idx = list(range(pos, min(pos + CHUNK, hi)))
            if not tiny:
                idx = [j for j in idx if j in wanted]
            for j, frame in self._batch(vr, idx) if idx else ():
                small = cv2.resize(frame, TINY, interpolation=cv2.INTER_AREA) if tiny else None
                try:
                    t = float(vr.get_frame_timestamp(j)[0])
                except Exception:
                    t = j / self.fps
                yield Frame(j, t, small, frame if j in wanted else None)
