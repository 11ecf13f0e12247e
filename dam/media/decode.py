"""Decode a time range of a video in one pass: every frame tiny (for shot detection) and the
sampled frames at embedding size. decord resizes inside the decoder, so 4K costs what 4K
decoding costs and no more."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

TINY = (48, 27)  # TransNetV2's input size
CHUNK = 48


class DecodeError(RuntimeError):
    pass


@dataclass
class ShardFrames:
    tiny: np.ndarray  # uint8 [n, 27, 48, 3]: every frame of [first, first + n)
    first: int
    frames: np.ndarray  # uint8 [m, h, w, 3]: the sampled frames
    index: np.ndarray  # int64 [m]: their frame numbers
    times: np.ndarray  # float64 [m]: their presentation times (seconds)
    total: int  # frames the decoder can reach in the whole file


def decode_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """Keep aspect; even sizes and at least 64 wide (decord mis-sizes very narrow outputs)."""
    scale = short_side / min(width, height)
    w, h = max(64, round(width * scale / 2) * 2), max(36, round(height * scale / 2) * 2)
    return w, h


def open_reader(path: Path, size: tuple[int, int] | None = None, threads: int = 0):
    import decord

    try:
        if size:
            return decord.VideoReader(str(path), width=size[0], height=size[1], num_threads=threads)
        return decord.VideoReader(str(path), num_threads=threads)
    except Exception as e:  # decord raises its own error types from C++
        raise DecodeError(f"cannot decode (truncated or corrupt file?): {_reason(e)}") from None


def _reason(e: BaseException) -> str:
    """decord's C++ messages start with a timestamp and a source path; keep what it says."""
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return text.split("Error: ", 1)[-1].strip()[:200]


def _rotate(frames: np.ndarray, rotation: int) -> np.ndarray:
    k = {90: 1, 180: 2, 270: 3}.get(rotation % 360, 0)
    return np.ascontiguousarray(np.rot90(frames, k=k, axes=(1, 2))) if k else frames


def sample_indices(start: int, end: int, fps: float, sample_fps: float) -> np.ndarray:
    """Frame numbers in [start, end) at sample_fps, on a grid anchored at t=0 so shards agree."""
    step = fps / sample_fps
    k0 = int(np.ceil(start / step - 1e-9))
    idx = np.round(np.arange(k0, end / step, 1.0) * step).astype(np.int64)
    return np.unique(idx[(idx >= start) & (idx < end)])


def decode_shard(path: Path, start: int, end: int, wanted: np.ndarray, size: tuple[int, int],
                 context: int = 0, rotation: int = 0, threads: int = 0) -> ShardFrames:
    vr = open_reader(path, size, threads)
    total = len(vr)
    lo, hi = max(0, start - context), min(total, end + context)
    if lo >= hi:
        raise DecodeError(f"frames {start}-{end} are past the end of the video ({total} frames)")
    wanted_set = set(int(i) for i in wanted if lo <= i < hi)
    tiny = np.empty((hi - lo, TINY[1], TINY[0], 3), np.uint8)
    keep, keep_idx = [], []
    pos = lo
    try:
        while pos < hi:
            idx = list(range(pos, min(pos + CHUNK, hi)))
            batch = vr.get_batch(idx).asnumpy()
            for j, frame in zip(idx, batch):
                tiny[j - lo] = cv2.resize(frame, TINY, interpolation=cv2.INTER_AREA)
                if j in wanted_set:
                    keep.append(frame)
                    keep_idx.append(j)
            pos = idx[-1] + 1
    except Exception as e:
        at = pos / max(vr.get_avg_fps(), 1e-6)
        raise DecodeError(f"decoding stopped at frame {pos} ({at:.2f}s; truncated or corrupt?): "
                          f"{_reason(e)}") from None
    index = np.asarray(keep_idx, np.int64)
    frames = np.stack(keep) if keep else np.zeros((0, size[1], size[0], 3), np.uint8)
    times = np.asarray([vr.get_frame_timestamp(int(i))[0] for i in index], np.float64)
    return ShardFrames(tiny=tiny, first=lo, frames=_rotate(frames, rotation), index=index, times=times, total=total)


def decode_frames(path: Path, index: list[int], size: tuple[int, int], rotation: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A few frames by number (random access): scene keyframes the sampling grid missed."""
    vr = open_reader(path, size)
    index = [i for i in index if 0 <= i < len(vr)]
    if not index:
        return np.zeros((0, size[1], size[0], 3), np.uint8), np.zeros(0)
    frames = vr.get_batch(index).asnumpy()
    times = np.asarray([vr.get_frame_timestamp(i)[0] for i in index])
    return _rotate(frames, rotation), times
