"""Camera sources: a V4L2 device, an RTSP/HTTP (MJPEG) URL, or a file played in real time.
Only the camera actor that owns a source opens it. Frames come out as RGB uint8."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import time
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from pydantic import BaseModel

SourceKind = Literal["v4l2", "url", "file"]


class SourceSpec(BaseModel):
    id: str
    uri: str
    kind: SourceKind
    name: str


def classify(uri: str) -> SourceKind:
    if re.match(r"^(rtsps?|https?|rtmp|udp|tcp)://", uri, re.I):
        return "url"
    try:
        if stat.S_ISCHR(os.stat(uri).st_mode):
            return "v4l2"
    except OSError:
        pass
    return "file"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:64] or "camera"


def stable_id(uri: str) -> str:
    """The same camera gets the same id across re-plugging: a device's /dev/v4l/by-id (or
    watched) name, a file's name, or a hash of the URL (credentials stripped)."""
    if classify(uri) == "url":
        clean = re.sub(r"//[^/@]*@", "//", uri)
        return "url-" + hashlib.blake2b(clean.encode(), digest_size=6).hexdigest()
    name = Path(uri).name
    return slug(re.sub(r"\.[A-Za-z0-9]{2,4}$", "", name))


def spec_for(uri: str, name: str | None = None, cam_id: str | None = None) -> SourceSpec:
    kind = classify(uri)
    label = name or (re.sub(r"//[^/@]*@", "//", uri) if kind == "url" else Path(uri).name)
    return SourceSpec(id=cam_id or stable_id(uri), uri=uri, kind=kind, name=label)


class SourceGone(RuntimeError):
    """The device was unplugged, the stream ended or the file vanished."""


class FrameSource:
    """read() -> (frame RGB, capture time) at the source's pace. A file source is paced to real
    time (frames that are late are skipped, and counted as dropped) and loops."""

    def __init__(self, spec: SourceSpec, loop: bool = True):
        self.spec, self.loop = spec, loop
        self.dropped = 0
        backend = {"v4l2": cv2.CAP_V4L2, "url": cv2.CAP_FFMPEG, "file": cv2.CAP_FFMPEG}[spec.kind]
        self.cap = cv2.VideoCapture(spec.uri, backend)
        if not self.cap.isOpened():
            raise SourceGone(f"cannot open {spec.kind} source {spec.name}")
        fps = self.cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1 <= fps <= 240 else 25.0
        self._t0 = time.monotonic()
        self._n = 0

    def read(self) -> tuple[np.ndarray, float]:
        if self.spec.kind == "file":
            due = self._t0 + self._n / self.fps
            late = time.monotonic() - due
            while late > 1.0 / self.fps:  # behind real time: skip frames, as a live camera would
                if not self.cap.grab():
                    self._rewind()
                self._n += 1
                self.dropped += 1
                late -= 1.0 / self.fps
            if late < 0:
                time.sleep(-late)
        ok, bgr = self.cap.read()
        if not ok and self.spec.kind == "file" and self.loop:
            self._rewind()
            ok, bgr = self.cap.read()
        if not ok or bgr is None:
            raise SourceGone(f"{self.spec.name}: no more frames (unplugged or stream ended)")
        self._n += 1
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), time.time()

    def _rewind(self) -> None:
        self.cap.set(cv2.CAP_PROP_POS_FRAMES, 0)

    def close(self) -> None:
        self.cap.release()
