"""The pipeline's stages as Ray Data callable classes: each loads its model once per actor and
turns one shard row into the next. A failure becomes the row's `error`, never a dead pipeline."""

from __future__ import annotations

import traceback
from pathlib import Path

import numpy as np

from dam.config import Settings
from dam.encoders.registry import load_image_encoder
from dam.media.decode import DecodeError, decode_picks, decode_shard, decode_size, lost_ranges, sample_indices
from dam.media.nvdec import decode_shard_nvdec, nvdec_available
from dam.media.quality import frame_quality
from dam.media.shots import load_shot_detector

CONTEXT = 50  # frames of look-around on each side so shot detection is exact at shard edges


def _empty(row: dict) -> dict:
    """The shard's outputs, empty: every row keeps one shape, whatever happened to it."""
    for key in ("tiny", "frames"):
        row.pop(key, None)
    row.update(first=row["start"], index=np.zeros(0, np.int64), times=np.zeros(0), quality=np.zeros(0, np.float32),
               cuts=np.zeros((0, 4), np.int64))
    row.setdefault("lost", np.zeros((0, 2), np.int64))
    return row


def _fail(row: dict, stage: str, e: BaseException) -> dict:
    """Mark the shard failed; it keeps flowing with empty outputs so every row has one shape."""
    msg = str(e) if isinstance(e, DecodeError) else f"{type(e).__name__}: {e}"
    row["error"] = f"{stage}: {msg}"[:500]
    row["trace"] = "" if isinstance(e, DecodeError) else traceback.format_exc()[-2000:]
    return _empty(row)


def _node() -> str:
    """The Ray node this stage ran on: the report says where the work went (and tests check it spread)."""
    import ray

    return ray.get_runtime_context().get_node_id()


def _size(row: dict, settings: Settings) -> tuple[int, int]:
    w, h = row["width"], row["height"]
    return decode_size(w, h, settings.frame_size)


def _damage(row: dict, lost: list[tuple[int, int]]) -> np.ndarray:
    """Lost frame ranges, less a tail at the file's end within 3 % of its length (+2 frames): the
    header's frame count is an estimate (the same allowance the truncation check always had)."""
    if lost and row["shard"] == row["shards"] - 1 and lost[-1][1] >= row["expected_frames"]:
        a, b = lost[-1]
        if b - a <= 0.03 * row["expected_frames"] + 2:
            lost = lost[:-1]
    return np.asarray(lost, np.int64).reshape(-1, 2)


class DecodeShard:
    """Decode a shard once: every frame tiny for shots, sampled frames at embedding size."""

    def __init__(self, settings: dict):
        share_heap_arenas()
        self.settings = Settings(**settings)
        self.nvdec = self.settings.decode_device == "cuda"  # the pipeline sends this actor only shards NVDEC suits
        if self.nvdec and not nvdec_available():
            raise RuntimeError("decode_device=cuda needs a GPU and PyNvVideoCodec on this node (pip install 'dam[gpu]')")

    def _decode(self, row: dict, wanted: np.ndarray):
        args = (Path(row["path"]), row["start"], row["end"], wanted, _size(row, self.settings))
        if self.nvdec:
            return decode_shard_nvdec(*args, fps=row["fps"], context=CONTEXT, rotation=row["rotation"])
        return decode_shard(*args, context=CONTEXT, rotation=row["rotation"], threads=self.settings.decode_threads,
                            backend=self.settings.decoder)

    def __call__(self, row: dict) -> dict:
        return_freed_memory()  # the last shard's buffers, now that Ray has taken them
        row.update(error="", trace="", decode_node=_node())
        # Frames this shard should hold: a header can over-count, so the last shard asks only for
        # what it promises, and a short shortfall at the very end is not damage.
        expect_end = min(row["end"], row["expected_frames"])
        try:
            wanted = sample_indices(row["start"], row["end"], row["fps"], self.settings.sample_fps)
            sf = self._decode(row, wanted)
            row.update(tiny=sf.tiny, first=sf.first, frames=sf.frames, index=sf.index, times=sf.times,
                       quality=np.asarray([frame_quality(f) for f in sf.frames], np.float32),
                       lost=_damage(row, lost_ranges(sf.decoded, row["start"], expect_end)))
        except DecodeError:  # nothing in this range decodes: the whole range is lost, the file goes on
            _empty(row)["lost"] = _damage(row, [(row["start"], expect_end)] if expect_end > row["start"] else [])
        except Exception as e:
            _fail(row, "decode", e)
        return row


def _libc():
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return None


LIBC = _libc()


def share_heap_arenas() -> None:
    """glibc gives every thread its own heap arena; decord's and OpenCV's threads would each keep
    freed frame buffers. Two arenas are plenty for one decode actor."""
    if LIBC is not None:
        LIBC.mallopt(-8, 2)  # M_ARENA_MAX


def return_freed_memory() -> None:
    """Hand freed heap back to the system. A decode actor lives for the whole backfill; without
    this its private memory rose ~2.6 MB per shard over a 2-hour video (benchmarks/scale.py),
    freed buffers kept for reuse that never came. Costs about a millisecond per shard."""
    if LIBC is not None:
        LIBC.malloc_trim(0)


def use_all_cores() -> None:
    """Ray pins OMP threads to an actor's CPU share (one thread for 0.5 CPU); a model stage on
    a CPU node should use the cores the decode stage leaves idle."""
    import os

    import torch

    if not torch.cuda.is_available():
        torch.set_num_threads(max(1, os.cpu_count() or 1))


class DetectShots:
    """Shot transitions inside the shard, plus one keyframe for every shot the sampling missed."""

    def __init__(self, settings: dict):
        use_all_cores()
        self.settings = Settings(**settings)
        self.detector = load_shot_detector(self.settings.shot_detector)

    def __call__(self, row: dict) -> dict:
        if row.get("error"):
            return row
        tiny = row.pop("tiny", None)
        if tiny is None or not len(tiny):  # the whole range was lost to damage
            return row
        try:
            found = self.detector.detect(tiny, row["first"])
            start, end = row["start"], min(row["end"], row["first"] + len(tiny))
            row["end"] = end  # the real end: headers can over- or under-count frames
            mine = [t for t in found if start <= t.split < end]
            row["cuts"] = np.asarray([[t.start, t.end, t.split, t.kind == "cut"] for t in mine], np.int64).reshape(-1, 4)
            index = row["index"]
            edges = [start] + [t.split for t in mine] + [end]
            extra = [(a + b) // 2 for a, b in zip(edges, edges[1:])
                     if b > a and not np.any((index >= a) & (index < b))]
            if extra:  # those that decode (damage may take some)
                frames, times, got = decode_picks(Path(row["path"]), extra, _size(row, self.settings), row["rotation"],
                                                  backend=self.settings.decoder)
                order = np.argsort(np.concatenate([index, got]), kind="stable")
                row["frames"] = np.concatenate([row["frames"], frames])[order]
                row["index"] = np.concatenate([index, got])[order]
                row["times"] = np.concatenate([row["times"], times])[order]
                q = np.asarray([frame_quality(f) for f in frames], np.float32)
                row["quality"] = np.concatenate([row["quality"], q])[order]
        except Exception as e:
            _fail(row, "shots", e)
        return row


class EmbedFrames:
    """Frame vectors; the frames themselves are dropped here so only vectors travel on."""

    def __init__(self, settings: dict):
        use_all_cores()
        self.settings = Settings(**settings)
        self.encoder = load_image_encoder(self.settings)

    def __call__(self, row: dict) -> dict:
        frames = row.pop("frames", None)
        row["embed_node"] = _node()
        if row.get("error") or frames is None or not len(frames):  # failed, or every frame lost to damage
            row["vectors"] = np.zeros((0, self.encoder.dim), np.float32)
            return row
        try:
            step = self.settings.embed_batch_size
            parts = [self.encoder.embed_images(list(frames[i : i + step])) for i in range(0, len(frames), step)]
            row["vectors"] = np.concatenate(parts) if parts else np.zeros((0, self.encoder.dim), np.float32)
        except Exception as e:
            _fail(row, "embed", e)
        return row
