"""CLIP through open_clip from weights the user points at: text and images in one space."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dam.encoders.base import ImageEncoder, unit


class EncoderError(RuntimeError):
    pass


def clip_key(model: str, checkpoint: str | None) -> str:
    tag = hashlib.blake2b(str(checkpoint).encode(), digest_size=4).hexdigest()
    safe = "".join(c if c.isalnum() else "-" for c in model).strip("-")
    return f"clip-{safe}-{tag}"


class ClipEncoder(ImageEncoder):
    """`model` is an open_clip architecture name, or a path to a model-config JSON for custom
    architectures; `checkpoint` a local weights file (weights are never downloaded)."""

    def __init__(self, model: str, checkpoint: str | None, device: str | None = None):
        import open_clip
        import torch

        if not checkpoint or not Path(checkpoint).is_file():
            raise EncoderError(
                f"the clip encoder needs local weights: set DAM_CLIP_CHECKPOINT to an open_clip checkpoint file "
                f"(got {checkpoint!r})"
            )
        name = model
        if model.endswith(".json") and Path(model).is_file():
            open_clip.add_model_config(Path(model))
            name = Path(model).stem
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.uses_gpu = self.device.startswith("cuda")
        try:
            self.model, _, self.preprocess = open_clip.create_model_and_transforms(
                name, pretrained=str(checkpoint), device=self.device,
                precision="fp16" if self.uses_gpu else "fp32",
            )
        except Exception as e:  # torch/pickle/safetensors each raise their own types
            raise EncoderError(f"could not load clip checkpoint {checkpoint}: {str(e)[:300]}") from None
        self.model.eval()
        self.tokenizer = open_clip.get_tokenizer(name)
        self.key = clip_key(model, checkpoint)
        self.dim = int(self.model.text_projection.shape[1]) if hasattr(self.model, "text_projection") else 512
        self._torch = torch
        self._dtype = torch.float16 if self.uses_gpu else torch.float32  # what precision= cast the weights to
        cfg = open_clip.get_model_preprocess_cfg(self.model)
        size = cfg.get("size", 224)
        self._size = size if isinstance(size, int) else int(min(size))
        shape = (1, 3, 1, 1)
        self._mean = torch.tensor(cfg.get("mean", open_clip.OPENAI_DATASET_MEAN), device=self.device).view(shape)
        self._std = torch.tensor(cfg.get("std", open_clip.OPENAI_DATASET_STD), device=self.device).view(shape)

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        if len(images) == 0:
            return np.zeros((0, self.dim), np.float32)
        batch = self._decoded_batch(images)
        if batch is None:
            batch = self._pil_batch(images)
        with self._torch.inference_mode():
            feats = self.model.encode_image(batch.to(self.device, dtype=self._dtype))
        return unit(feats.float().cpu().numpy())

    def _decoded_batch(self, images: Sequence[np.ndarray]):
        """Frames the pipeline decoded at the model's size only need a centre crop and
        normalising: done on the whole batch (on the GPU when there is one), not image by image."""
        shapes = {im.shape for im in images}
        if len(shapes) != 1:
            return None
        h, w, _ = shapes.pop()
        if min(h, w) != self._size:
            return None
        top, left = (h - self._size) // 2, (w - self._size) // 2
        x = self._torch.from_numpy(np.stack([im[top : top + self._size, left : left + self._size, :3] for im in images]))
        x = x.to(self.device).permute(0, 3, 1, 2).float().div_(255)
        return (x - self._mean) / self._std

    def _pil_batch(self, images: Sequence[np.ndarray]):
        from PIL import Image

        return self._torch.stack([self.preprocess(Image.fromarray(np.ascontiguousarray(im[:, :, :3]))) for im in images])

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        with self._torch.inference_mode():
            feats = self.model.encode_text(self.tokenizer(list(texts)).to(self.device))
        return unit(feats.float().cpu().numpy())
