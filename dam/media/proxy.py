"""Browser-playable H.264 proxies for sources a browser cannot play (ProRes, HEVC, DNxHD, 10-bit,
4:2:2, MXF/AVI...). ffmpeg does the work (an argument list: no shell); written atomically."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from dam.config import Settings
from dam.schema import MediaInfo

_PLAYABLE_CODECS = {"h264", "vp8", "vp9", "av1"}
_PLAYABLE_PIX = {"yuv420p", "yuvj420p"}
_PLAYABLE_CONTAINERS = ("mp4", "mov", "webm", "matroska")


def proxy_path(settings: Settings, asset_id: str) -> Path:
    """Where the asset's proxy lives: the one place the path is composed."""
    return settings.root / "proxies" / f"{asset_id}.mp4"


def needs_proxy(info: MediaInfo | None) -> bool:
    if info is None or info.kind != "video" or info.video is None:
        return False
    v = info.video
    return (v.codec not in _PLAYABLE_CODECS or (v.pix_fmt or "yuv420p") not in _PLAYABLE_PIX
            or not any(c in info.container for c in _PLAYABLE_CONTAINERS))


def make_proxy(src: Path, dest: Path, height: int = 720) -> Path:
    """H.264 / yuv420p / AAC in MP4 with the index up front (plays before it is all loaded),
    no taller than `height`, metadata (creation time, location) carried over."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp.mp4")
    args = ["ffmpeg", "-v", "error", "-y", "-i", f"file:{Path(src).resolve()}", "-map", "0:v:0", "-map", "0:a:0?",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
            "-vf", f"scale=-2:'max(2,2*trunc(min({height},ih)/2))',setsar=1", "-c:a", "aac", "-b:a", "128k",
            "-movflags", "+faststart", "-map_metadata", "0", f"file:{tmp}"]
    try:
        r = subprocess.run(args, capture_output=True, text=True)
        if r.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            raise RuntimeError((r.stderr.strip().splitlines() or ["ffmpeg failed"])[-1])
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
