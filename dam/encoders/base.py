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


class TextEncoder(ABC):
    key: str
    dim: int

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def load_image_encoder(settings: Settings) -> ImageEncoder:
    if settings.encoder == "clip":
        from dam.encoders.clip import ClipEncoder

        return ClipEncoder(settings.clip_model, settings.clip_checkpoint, pretrained=settings.clip_pretrained)
    if settings.encoder == "vision":
        from dam.encoders.vision import VisionEncoder

        return VisionEncoder(settings)
    from dam.encoders.builtin import BuiltinEncoder

    return BuiltinEncoder()


def cheap_image_encoder(settings: Settings) -> ImageEncoder | None:
    """The configured image encoder when it is cheap enough to run in the caller's process
    (ImageEncoder.cheap); None, without loading any weights, when it is not."""
    if settings.encoder != "builtin":
        return None
    enc = load_image_encoder(settings)
    return enc if enc.cheap else None


def image_encoder_key(settings: Settings) -> str:
    """The vector-space key without loading weights (for the driver, which only stores)."""
    if settings.encoder == "clip":
        from dam.encoders.clip import clip_key

        return clip_key(settings.clip_model, settings.clip_checkpoint or settings.clip_pretrained)
    if settings.encoder == "vision":
        from dam.encoders.vision import KEY

        return KEY
    from dam.encoders.builtin import BuiltinEncoder

    return BuiltinEncoder.key


def load_text_encoder(settings: Settings) -> TextEncoder:
    from dam.encoders.text import DEFAULT, MiniLMEncoder, SentenceEncoder

    return MiniLMEncoder() if settings.text_model == DEFAULT else SentenceEncoder(settings.text_model)


def search_ef(key: str) -> int:
    """ef_search for the collections of vector space `key` (image spaces by their encoder;
    text spaces, queried by meaning, as a cross-modal space)."""
    from dam.encoders.builtin import BuiltinEncoder

    return BuiltinEncoder.search_ef if key == BuiltinEncoder.key else ImageEncoder.search_ef
