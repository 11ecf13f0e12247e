"""Encoders turn frames (and, where they can, text) into unit-norm float32 vectors.

Each backend is one small class behind `ImageEncoder` (dam.encoders.base), named in
dam.encoders.registry, whose `load_image_encoder` picks it from the settings. A vector is only
ever compared with vectors of the same `key`."""

from dam.encoders.base import ImageEncoder, TextEncoder
from dam.encoders.registry import load_image_encoder, load_text_encoder

__all__ = ["ImageEncoder", "TextEncoder", "load_image_encoder", "load_text_encoder"]
