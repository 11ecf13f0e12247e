"""A seeded corpus of damaged media made from real encodes: what failing cards, interrupted
copies and hostile uploads leave. The tests ingest it mixed with good files; the robustness
benchmark counts what each decoder recovers from it against `ffmpeg -f null`."""

from __future__ import annotations

import random
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Real encodes, one per container and codec a card dump or an upload folder holds.
SOURCES: dict[str, list[str]] = {
    "h264.mp4": ["-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-c:a", "aac"],
    "h264_faststart.mp4": ["-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-c:a", "aac",
                           "-movflags", "+faststart"],
    "hevc.mp4": ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1",
                 "-c:a", "aac"],
    "mpeg4.mov": ["-c:v", "mpeg4", "-q:v", "4", "-c:a", "pcm_s16le"],
    "vp9.mkv": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "400k", "-c:a", "libopus"],
    "mpeg2.ts": ["-c:v", "mpeg2video", "-q:v", "4", "-c:a", "mp2"],
}
AUDIO = {"speech.m4a": ["-c:a", "aac"], "speech.mp3": ["-c:a", "libmp3lame", "-q:a", "6"]}


@dataclass(frozen=True)
class Case:
    path: Path
    source: str  # the good file it was made from ("" for made-up files)
    damage: str


def make_sources(folder: Path, seconds: float = 4.0, size: tuple[int, int] = (320, 180)) -> dict[str, Path]:
    """The good originals: moving video with sound in every container, audio, and photos."""
    folder.mkdir(parents=True, exist_ok=True)
    w, h = size
    video = ["-f", "lavfi", "-i", f"testsrc2=s={w}x{h}:r=25:d={seconds}",
             "-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}", "-shortest", "-pix_fmt", "yuv420p"]
    out = {}
    for name, codec in SOURCES.items():
        out[name] = _ffmpeg(folder / name, [*video, *codec])
    tone = ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    for name, codec in AUDIO.items():
        out[name] = _ffmpeg(folder / name, [*tone, *codec])
    pattern = ["-f", "lavfi", "-i", f"mandelbrot=s={w * 2}x{h * 2}", "-frames:v", "1"]
    out["photo.jpg"] = _ffmpeg(folder / "photo.jpg", [*pattern, "-q:v", "3"])
    out["photo.png"] = _ffmpeg(folder / "photo.png", pattern)
    out["photo.heic"] = _heic(out["photo.jpg"], folder / "photo.heic")
    return out


def _ffmpeg(dest: Path, args: list[str]) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(dest)], check=True)
    return dest


def _heic(src: Path, dest: Path) -> Path:
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    with Image.open(src) as im:
        im.save(dest, quality=60)
    return dest


def mutate(sources: dict[str, Path], folder: Path, seed: int = 17) -> list[Case]:
    """Damaged copies of every source, plus files that lie about what they are. Same seed,
    same bytes."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def put(name: str, data: bytes, source: str, damage: str) -> None:
        path = folder / name
        path.write_bytes(data)
        cases.append(Case(path, source, damage))

    for name, src in sources.items():
        data = src.read_bytes()
        stem, ext = name.rsplit(".", 1)
        n = len(data)
        mid = rng.randrange(n // 3, 2 * n // 3)
        span = min(8192, n // 8)
        put(f"{stem}_noise.{ext}", _over(data, mid, rng.randbytes(span)), name, "random bytes over the middle")
        put(f"{stem}_zeroed.{ext}", _over(data, mid, bytes(span)), name, "zeroed range")
        for frac in (0.2, 0.6, 0.95):
            put(f"{stem}_cut{int(frac * 100)}.{ext}", data[: int(n * frac)], name, f"truncated at {frac:.0%}")
        if box := _box_damage(data, rng):
            put(f"{stem}_box.{ext}", box, name, "damaged container box")
    # Files that lie about what they are.
    video, photo = sources["h264.mp4"], sources["photo.jpg"]
    put("mkv_named.mp4", sources["vp9.mkv"].read_bytes(), "vp9.mkv", "wrong extension (Matroska as .mp4)")
    put("photo_named.mov", photo.read_bytes(), "photo.jpg", "wrong extension (JPEG as .mov)")
    put("empty.mp4", b"", "", "zero bytes")
    put("noise.mov", rng.randbytes(40_000), "", "random bytes")
    put("text.mp4", b"not a video, a note\n" * 200, "", "text with a video extension")
    put("hours.mp4", _claims_hours(video.read_bytes()), "h264.mp4", "header that claims hours")
    _ffmpeg(folder / "one_pixel.mp4", ["-f", "lavfi", "-i", "color=c=red:size=16x16:rate=25:duration=1,scale=1:1", "-c:v", "libx264",
                                       "-pix_fmt", "yuv444p"])
    cases.append(Case(folder / "one_pixel.mp4", "", "a 1x1 video"))
    _png16(folder / "deep.png", rng)
    cases.append(Case(folder / "deep.png", "", "a 16-bit PNG"))
    return cases


def _over(data: bytes, at: int, patch: bytes) -> bytes:
    return data[:at] + patch + data[at + len(patch):]


def _boxes(data: bytes) -> list[tuple[int, int, bytes]]:
    """Top-level ISO-BMFF boxes (offset, size, type); empty for other containers."""
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size < 8 or not kind.isalnum():
            return out if out else []
        out.append((pos, size, kind))
        pos += size
    return out


def _box_damage(data: bytes, rng: random.Random) -> bytes | None:
    """MP4/MOV: the sample table's header overwritten; Matroska: its EBML header; TS: sync bytes."""
    boxes = {kind: (off, size) for off, size, kind in _boxes(data)}
    if b"moov" in boxes:
        off, size = boxes[b"moov"]
        inner = data.find(b"stco", off, off + size)
        inner = inner if inner > 0 else off + 8
        return _over(data, inner - 4, rng.randbytes(24))
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return _over(data, 4, rng.randbytes(16))
    if data[:1] == b"\x47":
        return bytes(0 if i % 188 == 0 and 30 <= i // 188 < 60 else b for i, b in enumerate(data))
    return None


def _claims_hours(data: bytes) -> bytes:
    """The movie header says ten hours; the samples say four seconds."""
    at = data.find(b"mvhd")
    if at < 0:
        return data
    version = data[at + 4]
    scale_at = at + 8 + (16 if version == 1 else 8)
    (scale,) = struct.unpack(">I", data[scale_at : scale_at + 4])
    if version == 1:
        return _over(data, scale_at + 4, struct.pack(">Q", scale * 36_000))
    return _over(data, scale_at + 4, struct.pack(">I", min(scale * 36_000, 2**32 - 1)))


def _png16(dest: Path, rng: random.Random) -> None:
    import cv2

    img = np.asarray([[rng.randrange(65536) for _ in range(96)] for _ in range(64)], np.uint16)
    cv2.imwrite(str(dest), np.dstack([img, img[::-1], img[:, ::-1]]))


def build(folder: Path, seed: int = 17) -> tuple[dict[str, Path], list[Case]]:
    """Originals under folder/good, damaged and lying files under folder/bad."""
    shutil.rmtree(folder, ignore_errors=True)
    sources = make_sources(folder / "good")
    return sources, mutate(sources, folder / "bad", seed)
