"""Video decoding backends behind one interface (base.VideoSource), chosen by name in one place.

Measured on 1080p H.264 and HEVC and on damaged files (benchmarks/decoders.py, README): PyAV is
the default, it decodes what `ffmpeg -f null` decodes from a damaged file; decord and torchcodec
stay selectable with `DAM_DECODER`."""

from __future__ import annotations

from pathlib import Path

from dam.media.decoders.base import TINY, DecodeError, Frame, VideoSource
from dam.registry import Registry

DEFAULT = "pyav"


# Named by import path, so a process loads only the FFmpeg build of the library it uses (decord's
# and PyNvVideoCodec's clash in one process; see dam/media/nvdec.py). A new decoder: a VideoSource
# subclass in its own module here, and one line.
DECODERS: Registry[VideoSource] = Registry("decoder", {
    "pyav": "dam.media.decoders.pyav:PyAVSource",
    "decord": "dam.media.decoders.decord:DecordSource",
    "torchcodec": "dam.media.decoders.torchcodec:TorchCodecSource",
})
NAMES = tuple(DECODERS.names())


def open_video(path: Path, backend: str | None = None, threads: int = 1) -> VideoSource:
    return DECODERS.get(backend or DEFAULT)(Path(path), threads)


__all__ = ["DECODERS", "DEFAULT", "NAMES", "TINY", "DecodeError", "Frame", "VideoSource", "open_video"]
