"""Which encoder backends exist, and the one place that picks one from the settings.

Adding an image encoder: one file with an ImageEncoder subclass (its `from_settings` and
`key_for`), one line in IMAGE_ENCODERS, and its name in `EncoderName` (dam/config.py, which
imports nothing of dam and so cannot read the registry; DAM_ENCODER and `dam --encoder` take
those names). Backends are named by import path, so a
command that never embeds never imports torch or open_clip."""

from __future__ import annotations

from functools import lru_cache

from dam.config import Settings
from dam.encoders.base import ImageEncoder, TextEncoder
from dam.encoders.builtin import BuiltinEncoder
from dam.encoders.text import DEFAULT, MiniLMEncoder, SentenceEncoder
from dam.registry import Registry

IMAGE_ENCODERS: Registry[ImageEncoder] = Registry("encoder", {
    "builtin": "dam.encoders.builtin:BuiltinEncoder",
    "vision": "dam.encoders.vision:VisionEncoder",
    "clip": "dam.encoders.clip:ClipEncoder",
})


def image_encoder_class(name: str) -> type[ImageEncoder]:
    return IMAGE_ENCODERS.get(name)


def load_image_encoder(settings: Settings) -> ImageEncoder:
    return image_encoder_class(settings.encoder).from_settings(settings)


def image_encoder_key(settings: Settings) -> str:
    """The vector-space key without loading weights (for the driver, which only stores)."""
    return image_encoder_class(settings.encoder).key_for(settings)


def cheap_image_encoder(settings: Settings) -> ImageEncoder | None:
    """The configured image encoder when it is cheap enough to run in the caller's process
    (ImageEncoder.cheap); None, without loading any weights, when it is not."""
    if not image_encoder_class(settings.encoder).cheap:
        return None
    return load_image_encoder(settings)


def load_text_encoder(settings: Settings) -> TextEncoder:
    return _text_encoder(settings.text_model)


@lru_cache(maxsize=2)
def _text_encoder(model: str) -> TextEncoder:
    """One per process and model: the picture model's class map and the library's text search
    each loaded MiniLM, two ONNX sessions (0.5 s and 90 MB each) in every `dam search`. Shared
    safely: it holds a lock around the tokenizer's state."""
    return MiniLMEncoder() if model == DEFAULT else SentenceEncoder(model)


def search_ef(key: str) -> int:
    """ef_search for the collections of vector space `key` (image spaces by their encoder;
    text spaces, queried by meaning, as a cross-modal space)."""
    return BuiltinEncoder.search_ef if key == BuiltinEncoder.key else ImageEncoder.search_ef
