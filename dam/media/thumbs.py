"""Stills cut from the original with ffmpeg, written atomically (temp file, then rename)."""

from __future__ import annotations

import os
from pathlib import Path

import ffmpeg


def extract_still(src: Path, at: float, dest: Path, width: int = 384) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp.jpg")
    try:
        (
            # No -ss at all for t=0: on a still image ffmpeg would seek past its only frame.
            ffmpeg.input(f"file:{Path(src).resolve()}", **({"ss": at} if at > 0 else {}))
            .output(f"file:{tmp}", vframes=1, vf=f"scale={width}:-2", q=4)
            .overwrite_output()
            .run(quiet=True)
        )
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise RuntimeError(f"no frame at {at:.2f}s")
        os.replace(tmp, dest)
    except ffmpeg.Error as e:
        raise RuntimeError((e.stderr or b"").decode(errors="replace").strip().splitlines()[-1:] or "ffmpeg failed") from None
    finally:
        tmp.unlink(missing_ok=True)
    return dest
