"""Photos as Pillow sees them: HEIC/HEIF (through pillow-heif), EXIF capture date, camera and GPS.

ffprobe cannot open HEIC here and ignores EXIF, so stills are probed again with Pillow: the
capture date (DateTimeOriginal + OffsetTimeOriginal) wins over file dates, the camera fills
make/model and GPS becomes an ISO 6709 `location` tag, as QuickTime writes it for videos."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from dam.media.decoders import DecodeError
from dam.schema import MediaInfo, VideoStream

try:
    import pillow_heif

    pillow_heif.register_heif_opener()  # from here on Image.open reads .heic/.heif
except ImportError:  # pragma: no cover - pillow-heif is a dependency; without it HEIC is "unreadable"
    pillow_heif = None

HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825


class PhotoError(ValueError):
    pass


def is_heif(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS


def _exif_time(value: str | None, offset: str | None) -> datetime | None:
    if not value:
        return None
    try:
        t = datetime.strptime(value.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if offset:
        try:
            sign = -1 if offset.startswith("-") else 1
            h, m = offset.strip("+-\x00 ").split(":")
            return t.replace(tzinfo=timezone(sign * timedelta(hours=int(h), minutes=int(m))))
        except ValueError:
            pass
    return t


def _degrees(dms, ref: str | None) -> float | None:
    try:
        d, m, s = (float(x) for x in dms)
    except (TypeError, ValueError):
        return None
    value = d + m / 60 + s / 3600
    return -value if (ref or "").upper() in ("S", "W") else value


def exif_fields(exif) -> dict:
    """created, make, model, latitude, longitude (those present) from a PIL Exif."""
    sub, gps = exif.get_ifd(_EXIF_IFD), exif.get_ifd(_GPS_IFD)
    out: dict = {}
    created = _exif_time(sub.get(0x9003) or exif.get(0x0132), sub.get(0x9011) or sub.get(0x9010))
    if created:
        out["created"] = created
    for key, tag in (("make", 0x010F), ("model", 0x0110)):
        if isinstance(exif.get(tag), str) and exif[tag].strip("\x00 "):
            out[key] = exif[tag].strip("\x00 ")
    lat, lon = _degrees(gps.get(2), gps.get(1)), _degrees(gps.get(4), gps.get(3))
    if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
        out["latitude"], out["longitude"] = round(lat, 6), round(lon, 6)
    return out


def iso6709(lat: float, lon: float) -> str:
    return f"{lat:+08.4f}{lon:+09.4f}/"


def probe_photo(path: Path, base: MediaInfo | None = None) -> MediaInfo:
    """A still's MediaInfo from Pillow, merged over what ffprobe found (base) if anything."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            width, height = im.size
            exif = exif_fields(im.getexif())
            fmt = (im.format or "image").lower()
            rotation = {3: 180, 6: 90, 8: 270}.get(im.getexif().get(0x0112), 0)
            mode = im.mode
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise PhotoError(f"cannot read the picture: {e}") from None
    tags = dict(base.tags) if base else {}
    if "latitude" in exif:
        tags["location"] = iso6709(exif["latitude"], exif["longitude"])
        tags["gps_latitude"], tags["gps_longitude"] = str(exif["latitude"]), str(exif["longitude"])
    video = base.video if base and base.video else VideoStream(codec=fmt, width=width, height=height, pix_fmt=mode)
    video = video.model_copy(update={"width": width, "height": height, "rotation": rotation or video.rotation})
    return MediaInfo(
        kind="image", container=base.container if base else fmt, size=os.stat(path).st_size, video=video,
        creation_time=exif.get("created") or (base.creation_time if base else None),
        make=exif.get("make") or (base.make if base else None), model=exif.get("model") or (base.model if base else None),
        tags=tags,
    )


def photo_still(src: Path, dest: Path, width: int = 640) -> Path:
    """A JPEG preview of any still Pillow reads (HEIC included), turned upright, written atomically."""
    from PIL import Image, ImageOps

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp.jpg")
    try:
        with Image.open(src) as im:
            im = ImageOps.exif_transpose(im).convert("RGB")
            im.thumbnail((width, width * 4))
            im.save(tmp, "JPEG", quality=85)
        os.replace(tmp, dest)
    except (OSError, ValueError) as e:
        raise RuntimeError(f"cannot make a preview: {e}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def read_image(path: Path) -> np.ndarray:
    """A picture as one RGB frame [1, h, w, 3], turned upright by its EXIF orientation."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as im:
            return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))[None]
    except Exception as e:
        raise DecodeError(f"cannot read image: {e}") from None
