"""ffprobe, normalised into a MediaInfo a person can trust (rotation, VFR, HDR, camera, timecode)."""

from __future__ import annotations

import os
import re
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import ffmpeg

from dam.media.photo import PhotoError, is_heif, probe_photo
from dam.schema import AudioStream, MediaInfo, VideoStream

_STILL_FORMATS = re.compile(r"(_pipe$|^image2$)")
_HDR_TRANSFERS = {"smpte2084", "arib-std-b67"}


class ProbeError(ValueError):
    """The file is not media ffprobe can read; the message says why."""


def _rate(text: str | None) -> float | None:
    try:
        value = float(Fraction(text)) if text else 0.0
    except (ValueError, ZeroDivisionError):
        return None
    return value or None


def _int(v: object) -> int | None:
    try:
        return int(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _float(v: object) -> float | None:
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _rotation(stream: dict) -> int:
    for side in stream.get("side_data_list", []):
        if "rotation" in side:
            return int(round(float(side["rotation"]))) % 360
    return _int(stream.get("tags", {}).get("rotate")) or 0


def _bit_depth(stream: dict) -> int | None:
    if depth := _int(stream.get("bits_per_raw_sample")):
        return depth
    m = re.search(r"p(\d{2})(le|be)$", stream.get("pix_fmt") or "")
    return int(m.group(1)) if m else (8 if stream.get("pix_fmt") else None)


def _creation_time(tags: dict[str, str]) -> datetime | None:
    for key in ("com.apple.quicktime.creationdate", "creation_time", "date"):
        if raw := tags.get(key):
            try:
                return datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                continue
    return None


# The creation time a file had where it came from (a network share), kept as an extended
# attribute: Linux has no call that sets a file's birth time. Used when the file names no date.
CREATED_XATTR = "user.dam.created"


def file_created(path: Path) -> datetime | None:
    """The creation time recorded in CREATED_XATTR, if the file system keeps it."""
    try:
        return datetime.fromisoformat(os.getxattr(path, CREATED_XATTR).decode())
    except (AttributeError, OSError, ValueError):  # no xattrs here, none set, or not ours
        return None


def _tag(tags: dict[str, str], *names: str) -> str | None:
    lowered = {k.lower(): v for k, v in tags.items()}
    for name in names:
        if v := lowered.get(name):
            return v.strip() or None
    return None


def _is_still(format_name: str, stream: dict) -> bool:
    """Photos come through image demuxers; a one-frame GIF/WebP is a still, an animated one a clip."""
    if _STILL_FORMATS.search(format_name):
        return True
    return format_name in ("gif", "webp") and (_int(stream.get("nb_frames")) or 1) <= 1


def _video(stream: dict) -> VideoStream:
    avg, real = _rate(stream.get("avg_frame_rate")), _rate(stream.get("r_frame_rate"))
    transfer = stream.get("color_transfer")
    return VideoStream(
        codec=stream.get("codec_name"),
        profile=stream.get("profile"),
        width=int(stream.get("width") or 0),
        height=int(stream.get("height") or 0),
        fps=avg or real,
        variable_frame_rate=bool(avg and real and abs(avg - real) / real > 0.01),
        frame_count=_int(stream.get("nb_frames")),
        rotation=_rotation(stream),
        pix_fmt=stream.get("pix_fmt"),
        bit_depth=_bit_depth(stream),
        color_transfer=transfer,
        color_primaries=stream.get("color_primaries"),
        hdr=transfer in _HDR_TRANSFERS,
        bit_rate=_int(stream.get("bit_rate")),
    )


def probe(path: Path) -> MediaInfo:
    """Read container and stream metadata; raise ProbeError with ffprobe's reason on bad input."""
    path = Path(path).resolve()
    try:
        data = ffmpeg.probe(f"file:{path}")
    except ffmpeg.Error as e:
        if is_heif(path):  # HEIC photos: ffprobe cannot open them, Pillow (pillow-heif) can
            try:
                return probe_photo(path)
            except PhotoError as pe:
                raise ProbeError(str(pe)) from None
        reason = (e.stderr or b"").decode(errors="replace").strip().splitlines()
        raise ProbeError(reason[-1] if reason else "ffprobe could not read the file") from None
    fmt = data.get("format", {})
    streams = data.get("streams", [])
    pictures = [s for s in streams if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    format_name = fmt.get("format_name", "")
    if pictures and _is_still(format_name, pictures[0]):
        kind = "image"
    elif pictures:
        kind = "video"
    elif audios:
        kind = "audio"
    else:
        raise ProbeError("no video or audio stream")
    tags = {k: str(v) for k, v in fmt.get("tags", {}).items()}
    all_tags = dict(tags)
    for s in streams:
        for k, v in s.get("tags", {}).items():
            all_tags.setdefault(k, str(v))
    video = _video(pictures[0]) if pictures else None
    if video and (video.width <= 0 or video.height <= 0):
        raise ProbeError("video stream has no picture size")
    duration = _float(fmt.get("duration")) or (_float(pictures[0].get("duration")) if pictures else None)
    if kind == "video" and not duration:
        raise ProbeError("video has no duration (truncated or still being written?)")
    info = MediaInfo(
        kind=kind,
        container=format_name,
        duration=duration if kind != "image" else None,
        size=int(fmt.get("size") or path.stat().st_size),
        bit_rate=_int(fmt.get("bit_rate")),
        video=video,
        audio=[
            AudioStream(
                codec=a.get("codec_name"),
                channels=_int(a.get("channels")),
                channel_layout=a.get("channel_layout"),
                sample_rate=_int(a.get("sample_rate")),
                bit_rate=_int(a.get("bit_rate")),
            )
            for a in audios
        ],
        creation_time=_creation_time(all_tags) or file_created(path),
        make=_tag(all_tags, "com.apple.quicktime.make", "make", "com.android.manufacturer"),
        model=_tag(all_tags, "com.apple.quicktime.model", "model", "com.android.model"),
        timecode=_tag(all_tags, "timecode"),
        tags=tags,
    )
    if kind == "image":  # EXIF capture date, camera and GPS, which ffprobe does not read
        try:
            return probe_photo(path, info)
        except PhotoError:
            pass
    return info
