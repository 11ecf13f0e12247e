"""The encoder interfaces: every image backend is an ImageEncoder, every sentence model a
TextEncoder; vectors are unit-norm float32 and compared only within one `key`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from dam.config import Settings


def unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, 1e-12)


class ImageEncoder(ABC):
    """A backend: one class in one file, named in dam.encoders.registry. `from_settings` builds it,
    `key_for` names its vector space without loading weights (the driver only stores)."""

    #: Names the vector space; stored with every vector so spaces are never mixed.
    key: str
    dim: int
    uses_gpu: bool = False
    #: Embeds a query picture in about a millisecond on one core: the HTTP ingress runs it in
    #: place, since a round trip to the batched QueryEncoder deployment costs several times that.
    cheap: bool = False
    #: HNSW ef_search of this space. Text queries land far from the pictures they find
    #: (cosine ~0.3 for CLIP), where a graph search needs a long candidate list to stay exact;
    #: a picture query lands close to its match and needs far fewer (benchmarks/search.py).
    search_ef: int = 400

    @abstractmethod
    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """RGB uint8 HxWx3 images of any size -> float32 [n, dim], unit norm."""

    def embed_text(self, texts: Sequence[str]) -> np.ndarray | None:
        """Text in the same space as images, when the model has one; None otherwise."""
        return None

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageEncoder:
        return cls()

    @classmethod
    def key_for(cls, settings: Settings) -> str:
        return cls.key


class TextEncoder(ABC):
    key: str
    dim: int

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...
