"""Recognise media by its bytes, not its name: a text file called clip.mp4 is not a video."""

from __future__ import annotations

from pathlib import Path

# (offset, magic) pairs that open real media containers and image formats.
_SIGNATURES: list[tuple[int, bytes]] = [
    (4, b"ftyp"),  # MP4, MOV, M4A, 3GP, HEIF/HEIC, AVIF
    (4, b"moov"), (4, b"mdat"), (4, b"wide"), (4, b"free"), (4, b"skip"),  # older QuickTime
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska / WebM
    (0, b"RIFF"),  # AVI, WAV, WebP
    (0, b"OggS"),
    (0, b"fLaC"),
    (0, b"ID3"),
    (0, b"FORM"),  # AIFF
    (0, b"\x06\x0e\x2b\x34\x02\x05\x01\x01"),  # MXF
    (0, b"\x00\x00\x01\xba"), (0, b"\x00\x00\x01\xb3"),  # MPEG-PS / MPEG video
    (0, b"FLV"),
    (0, b"0&\xb2u\x8ef\xcf\x11"),  # ASF / WMV
    (0, b"\xff\xd8\xff"),  # JPEG
    (0, b"\x89PNG\r\n\x1a\n"),
    (0, b"GIF8"),
    (0, b"II*\x00"), (0, b"MM\x00*"),  # TIFF and camera raws built on it
    (0, b"BM"),
]


def looks_like_media(path: Path) -> bool:
    """Cheap first gate before ffprobe: known container magic, MPEG-TS sync or MP3 frame sync."""
    try:
        with open(path, "rb") as f:
            head = f.read(400)
    except OSError:
        return False
    if len(head) < 12:
        return False
    if any(head[off : off + len(magic)] == magic for off, magic in _SIGNATURES):
        return True
    if head[0] == 0x47 and len(head) >= 377 and head[188] == 0x47 and head[376] == 0x47:
        return True  # MPEG transport stream: a sync byte every 188 bytes
    if head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return True  # MPEG audio frame sync (MP3/AAC ADTS without ID3)
    return False
