"""The same shard decode on the GPU's video engines (NVDEC, through PyNvVideoCodec): frames are
decoded and resized on the card and only the small results come back, so decoding stops
being what a GPU node waits for. Same contract as `decode.decode_shard`.

A process uses this or decord (DAM_DECODER=decord), never both: decord loads its own FFmpeg into the global symbol
scope, and PyNvVideoCodec's FFmpeg then crashes (seen on an H100 node)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dam.media.decode import TINY, DecodeError, ShardFrames, rotate

CHUNK = 48


NVDEC_CODECS = {"h264", "hevc", "av1", "vp9", "vp8", "mpeg2video", "mpeg4", "vc1"}


def nvdec_suits(row: dict) -> bool:
    """Codecs the engines decode; variable frame rate stays with decord, which reads real timestamps."""
    return row.get("codec") in NVDEC_CODECS and not row.get("vfr")


def nvdec_available() -> bool:
    try:
        import PyNvVideoCodec  # noqa: F401
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def decode_shard_nvdec(path: Path, start: int, end: int, wanted: np.ndarray, size: tuple[int, int],
                       fps: float, context: int = 0, rotation: int = 0, gpu: int = 0) -> ShardFrames:
    import PyNvVideoCodec as nvc
    import torch
    import torch.nn.functional as F

    try:
        dec = nvc.SimpleDecoder(str(path), gpu_id=gpu, use_device_memory=True,
                                output_color_type=nvc.OutputColorType.RGB)
        total = len(dec)
    except Exception as e:  # the bindings raise plain Exceptions from C++
        raise DecodeError(f"NVDEC cannot open this file: {str(e)[:200]}") from None
    lo, hi = max(0, start - context), min(total, end + context)
    if lo >= hi:
        raise DecodeError(f"frames {start}-{end} are past the end of the video ({total} frames)")
    keep = np.asarray(sorted(int(i) for i in wanted if lo <= i < hi), np.int64)
    tiny, frames = [], []
    pos = lo
    try:
        dec.seek_to_index(lo)
        while pos < hi:
            got = dec.get_batch_frames(min(CHUNK, hi - pos))
            if not got:
                break
            x = torch.stack([_tensor(torch, f) for f in got]).permute(0, 3, 1, 2).float()
            small = F.interpolate(x, size=(size[1], size[0]), mode="bilinear", antialias=True, align_corners=False)
            tiny.append(F.adaptive_avg_pool2d(small, (TINY[1], TINY[0])))
            chosen = keep[(keep >= pos) & (keep < pos + len(got))] - pos
            if len(chosen):
                frames.append(small[torch.from_numpy(chosen).to(small.device)])
            pos += len(got)
    except Exception as e:
        raise DecodeError(f"decoding stopped at frame {pos} ({pos / max(fps, 1e-6):.2f}s; truncated or corrupt?): "
                          f"{str(e)[:200]}") from None

    def host(parts: list, h: int, w: int) -> np.ndarray:
        if not parts:
            return np.zeros((0, h, w, 3), np.uint8)
        return torch.cat(parts).round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().cpu().numpy()

    sampled = host(frames, size[1], size[0])
    index = keep[keep < pos][: len(sampled)]
    # Times on the nominal frame grid: the pipeline sends variable-frame-rate files to decord.
    return ShardFrames(tiny=host(tiny, TINY[1], TINY[0]), first=lo, frames=rotate(sampled, rotation), index=index,
                       times=index / fps, decoded=np.arange(lo, hi, dtype=np.int64))


def _tensor(torch, frame):
    """A decoded frame stays on the card: DLPack where the bindings offer it, else the CUDA array interface."""
    if hasattr(frame, "__dlpack__"):
        return torch.from_dlpack(frame)
    return torch.as_tensor(frame, device="cuda")
