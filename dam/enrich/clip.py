"""Zero-shot labels with a CLIP checkpoint: the mean frame vector ranked against a vocabulary
(the stock vocabulary plus the user's file, one label a line). Runs only when the clip encoder
is configured with a checkpoint; softmax over the vocabulary gives the confidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dam.encoders.registry import load_image_encoder
from dam.enrich.model import Context, Label, Source, SourceSkipped
from dam.enrich.vocabulary import STOCK_VOCABULARY


def vocabulary(path: str | None) -> list[str]:
    extra = []
    if path:
        p = Path(path)
        if not p.is_file():
            raise SourceSkipped(f"vocabulary file {path} not found")
        extra = [ln.strip() for ln in p.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return list(dict.fromkeys([*STOCK_VOCABULARY, *extra]))


class Clip(Source):
    name = "clip"

    @classmethod
    def from_settings(cls, settings) -> Clip:
        return cls(settings)

    def __init__(self, settings, k: int = 6, min_confidence: float = 0.05):
        if settings.encoder != "clip" or not settings.clip_checkpoint:
            raise SourceSkipped("no clip checkpoint configured (DAM_ENCODER=clip, DAM_CLIP_CHECKPOINT)")

        self.encoder = load_image_encoder(settings)
        self.words = vocabulary(settings.enrich_vocabulary)
        self.vecs = np.asarray(self.encoder.embed_text([f"a photo of {w}" for w in self.words]))
        self.k, self.min_confidence = k, min_confidence

    def labels(self, ctx: Context) -> list[Label]:
        if not len(ctx.frames):
            raise SourceSkipped("no frames decoded")
        v = np.asarray(self.encoder.embed_images(list(ctx.frames))).mean(axis=0)
        v /= max(np.linalg.norm(v), 1e-12)
        logits = 100.0 * (self.vecs @ v)
        p = np.exp(logits - logits.max())
        p /= p.sum()
        order = np.argsort(-p)[: self.k]
        # The best match is always reported (with its honest, maybe low, confidence); the rest only when likely.
        return [Label(name=self.words[i], source=self.name, confidence=round(float(p[i]), 4))
                for j, i in enumerate(order) if j == 0 or p[i] >= self.min_confidence]
