"""Faces present, with OpenCV's YuNet detector (cv2.FaceDetectorYN). OpenCV 5's wheels ship no
detector data, so the ONNX model is configured (DAM_FACE_MODEL, e.g. face_detection_yunet_2023mar.onnx
from opencv_zoo); without it this source is skipped, never guessed."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from dam.enrich.model import Context, Label, SourceSkipped


class Faces:
    name = "faces"

    def __init__(self, model: str | None, score: float = 0.8):
        if not model:
            raise SourceSkipped("no face model configured (DAM_FACE_MODEL)")
        if not Path(model).is_file():
            raise SourceSkipped(f"face model {model} not found")
        self.model, self.score = model, score

    def count(self, frame: np.ndarray) -> tuple[int, float]:
        h, w = frame.shape[:2]
        det = cv2.FaceDetectorYN.create(self.model, "", (w, h), self.score)
        _, faces = det.detect(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        if faces is None:
            return 0, 0.0
        return len(faces), float(faces[:, -1].max())

    def labels(self, ctx: Context) -> list[Label]:
        if not len(ctx.frames):
            raise SourceSkipped("no frames decoded")
        found = [self.count(f) for f in ctx.frames]
        with_face = [c for c in found if c[0]]
        if not with_face:
            return [Label(name="no people", facet="people", source=self.name, confidence=0.6)]
        share = len(with_face) / len(found)
        most = max(n for n, _ in with_face)
        conf = round(share * max(s for _, s in with_face), 3)
        name = "one person" if most == 1 else "two people" if most == 2 else "group of people"
        return [Label(name="face", source=self.name, confidence=conf),
                Label(name=name, facet="people", source=self.name, confidence=conf)]
