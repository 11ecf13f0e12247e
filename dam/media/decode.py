"""Decode a time range of a video in one pass: every frame tiny (for shot detection) and the
sampled frames at embedding size, through the chosen backend (dam.media.decoders). A damaged
range costs its own frames: the shard reports what it lost and keeps the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dam.media.decoders import TINY, DecodeError, open_video

__all__ = ["TINY", "DecodeError", "ShardFrames", "decode_frames", "decode_picks", "decode_shard", "decode_size", "lost_ranges",
           "sample_indices"]


@dataclass
class ShardFrames:
    tiny: np.ndarray  # uint8 [n, 27, 48, 3]: every frame of [first, first + n); a lost frame repeats the last good one
    first: int
    frames: np.ndarray  # uint8 [m, h, w, 3]: the sampled frames
    index: np.ndarray  # int64 [m]: their frame numbers
    times: np.ndarray  # float64 [m]: their presentation times (seconds)
    decoded: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # every frame number that decoded


def decode_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """Keep aspect; even sizes and at least 64 wide (decord mis-sizes very narrow outputs)."""
    scale = short_side / min(width, height)
    w, h = max(64, round(width * scale / 2) * 2), max(36, round(height * scale / 2) * 2)
    return w, h


def rotate(frames: np.ndarray, rotation: int) -> np.ndarray:
    k = {90: 1, 180: 2, 270: 3}.get(rotation % 360, 0)
    return np.ascontiguousarray(np.rot90(frames, k=k, axes=(1, 2))) if k else frames


def sample_indices(start: int, end: int, fps: float, sample_fps: float) -> np.ndarray:
    """Frame numbers in [start, end) at sample_fps, on a grid anchored at t=0 so shards agree."""
    step = fps / sample_fps
    k0 = int(np.ceil(start / step - 1e-9))
    idx = np.round(np.arange(k0, end / step, 1.0) * step).astype(np.int64)
    return np.unique(idx[(idx >= start) & (idx < end)])


def lost_ranges(decoded: np.ndarray, start: int, end: int) -> list[tuple[int, int]]:
    """The frame ranges [a, b) of [start, end) that are not in `decoded` (sorted frame numbers)."""
    have = decoded[(decoded >= start) & (decoded < end)]
    edges = np.concatenate([[start - 1], have, [end]])
    gaps = np.nonzero(np.diff(edges) > 1)[0]
    return [(int(edges[g] + 1), int(edges[g + 1])) for g in gaps]


def decode_shard(path: Path, start: int, end: int, wanted: np.ndarray, size: tuple[int, int],
                 context: int = 0, rotation: int = 0, threads: int = 1, backend: str | None = None) -> ShardFrames:
    lo, hi = max(0, start - context), end + context
    wanted_set = {int(i) for i in wanted}
    tiny, keep, keep_idx, keep_t, decoded = [], [], [], [], []
    with open_video(path, backend, threads) as src:
        for f in src.read(lo, hi, size, wanted_set):
            if not decoded:
                lo = f.index  # the first frame that decodes (damage may have taken the range's head)
            while tiny and lo + len(tiny) < f.index:  # a gap: hold the last good picture
                tiny.append(tiny[-1])
            tiny.append(f.tiny)
            decoded.append(f.index)
            if f.image is not None:
                keep.append(f.image)
                keep_idx.append(f.index)
                keep_t.append(f.time)
    if not decoded:
        raise DecodeError(f"no frame of {start}-{end} can be decoded (truncated or corrupt?)")
    frames = np.stack(keep) if keep else np.zeros((0, size[1], size[0], 3), np.uint8)
    return ShardFrames(tiny=np.stack(tiny), first=lo, frames=rotate(frames, rotation),
                       index=np.asarray(keep_idx, np.int64), times=np.asarray(keep_t, np.float64),
                       decoded=np.asarray(decoded, np.int64))


def decode_picks(path: Path, index: list[int], size: tuple[int, int], rotation: int = 0,
                 backend: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A few frames by number (seeking to each): those that decode, their times and numbers."""
    with open_video(path, backend) as src:
        got = src.at([i for i in index if i >= 0], size)
    if not got:
        return np.zeros((0, size[1], size[0], 3), np.uint8), np.zeros(0), np.zeros(0, np.int64)
    return (rotate(np.stack([f.image for f in got]), rotation), np.asarray([f.time for f in got]),
            np.asarray([f.index for f in got], np.int64))


def decode_frames(path: Path, index: list[int], size: tuple[int, int], rotation: int = 0,
                  backend: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    frames, times, _ = decode_picks(path, index, size, rotation, backend)
    return frames, times
