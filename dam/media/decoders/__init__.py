"""Video decoding backends behind one interface (base.VideoSource), chosen by name in one place.

Measured on 1080p H.264 and HEVC and on damaged files (benchmarks/decoders.py, README): PyAV is
the default, it decodes what `ffmpeg -f null` decodes from a damaged file; decord and torchcodec
stay selectable with `DAM_DECODER`."""

from __future__ import annotations

from pathlib import Path

from dam.media.decoders.base import TINY, DecodeError, Frame, VideoSource

DEFAULT = "pyav"


def _registry() -> dict[str, type[VideoSource]]:
    # Imported here so a process loads only the FFmpeg build of the library it uses (decord's and
    # PyNvVideoCodec's clash in one process; see dam/media/nvdec.py).
    from dam.media.decoders.decord import DecordSource
    from dam.media.decoders.pyav import PyAVSource
    from dam.media.decoders.torchcodec import TorchCodecSource

    return {s.name: s for s in (PyAVSource, DecordSource, TorchCodecSource)}


NAMES = ("pyav", "decord", "torchcodec")


def open_video(path: Path, backend: str | None = None, threads: int = 1) -> VideoSource:
    name = backend or DEFAULT
    registry = _registry()
    if name not in registry:
        raise ValueError(f"unknown decoder {name!r}: choose one of {', '.join(NAMES)}")
    return registry[name](Path(path), threads)


__all__ = ["DEFAULT", "NAMES", "TINY", "DecodeError", "Frame", "VideoSource", "open_video"]
