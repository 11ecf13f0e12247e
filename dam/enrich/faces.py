"""Faces present, with the detector data OpenCV ships: by default the Haar frontal-face cascade
in `cv2.data.haarcascades` (OpenCV 4.x wheels; no download, no configuration), the `alt2` one:
`default` finds more texture "faces" (a second one on a spacesuit in the test photo). With
DAM_FACE_MODEL set to a YuNet ONNX file (opencv_zoo) it uses cv2.FaceDetectorYN instead, which
also finds turned and smaller faces and scores each one. Either detector is loaded once per
source object. The people count is the number of faces seen in most frames with any face, so one
stray detection does not make a group."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from dam.enrich.model import Context, Label, Source, SourceSkipped

HAAR_SCORE = 0.75  # the cascade gives no calibrated score: a fixed prior for a face it keeps
WORK_SIDE = 360  # frames are scaled down to this short side at most: big photos stay fast


class Haar:
    """Frontal faces at least a tenth of the frame's short side (24 px at least, the cascade's
    window), on an equalised grey frame; 5 overlapping hits needed, which keeps textures out.
    It misses profiles and small faces, so finding none is only a weak "no people"."""

    absent = 0.4

    def __init__(self) -> None:
        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_alt2.xml"
        self.cascade = cv2.CascadeClassifier(str(path))
        if self.cascade.empty():
            raise SourceSkipped(f"OpenCV face cascade {path} missing (OpenCV 5 dropped it; pin opencv<5)")

    def count(self, frame: np.ndarray) -> tuple[int, float]:
        grey = cv2.equalizeHist(cv2.cvtColor(_fit(frame), cv2.COLOR_RGB2GRAY))
        side = max(24, min(grey.shape) // 10)
        found = self.cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))
        return len(found), HAAR_SCORE if len(found) else 0.0


class YuNet:
    absent = 0.6

    def __init__(self, model: str, score: float = 0.8) -> None:
        if not Path(model).is_file():
            raise SourceSkipped(f"face model {model} not found")
        self.detector = cv2.FaceDetectorYN.create(model, "", (320, 320), score)

    def count(self, frame: np.ndarray) -> tuple[int, float]:
        frame = _fit(frame)
        self.detector.setInputSize((frame.shape[1], frame.shape[0]))
        _, faces = self.detector.detect(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        return (0, 0.0) if faces is None else (len(faces), float(faces[:, -1].max()))


def _fit(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    if min(h, w) <= WORK_SIDE:
        return frame
    s = WORK_SIDE / min(h, w)
    return cv2.resize(frame, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


class Faces(Source):
    name = "faces"

    @classmethod
    def from_settings(cls, settings) -> Faces:
        """OpenCV's Haar cascade by default; YuNet with DAM_FACE_MODEL (skipped if that file is missing)."""
        return cls(settings.face_model)

    def __init__(self, model: str | None = None, score: float = 0.8) -> None:
        self.detector: Haar | YuNet = YuNet(model, score) if model else Haar()

    def labels(self, ctx: Context) -> list[Label]:
        if not len(ctx.frames):
            raise SourceSkipped("no frames decoded")
        found = [self.detector.count(f) for f in ctx.frames]
        with_face = [c for c in found if c[0]]
        if not with_face:
            return [Label(name="no people", facet="people", source=self.name, confidence=self.detector.absent)]
        share = len(with_face) / len(found)
        most = max(Counter(n for n, _ in with_face).most_common(), key=lambda nc: (nc[1], nc[0]))[0]
        conf = round(share * max(s for _, s in with_face), 3)
        name = "one person" if most == 1 else "two people" if most == 2 else "group of people"
        return [Label(name="face", source=self.name, confidence=conf),
                Label(name=name, facet="people", source=self.name, confidence=conf)]
