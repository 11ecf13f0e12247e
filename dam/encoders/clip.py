"""CLIP through open_clip: text and images in one space. Weights by open_clip's own pretrained
names (`DAM_CLIP_PRETRAINED=laion2b_s34b_b79k`, downloaded on first use into open_clip's cache,
with a progress bar) or from a local file (`DAM_CLIP_CHECKPOINT`)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dam.config import Settings
from dam.encoders.base import ImageEncoder, unit


class EncoderError(RuntimeError):
    pass


def clip_key(model: str, checkpoint: str | None) -> str:
    tag = hashlib.blake2b(str(checkpoint).encode(), digest_size=4).hexdigest()
    safe = "".join(c if c.isalnum() else "-" for c in model).strip("-")
    return f"clip-{safe}-{tag}"


def weights_url(cfg: dict) -> str:
    """Where open_clip fetches a pretrained config's weights from (to fetch by hand when offline)."""
    if cfg.get("hf_hub"):
        repo, _, filename = cfg["hf_hub"].rpartition("/")  # 'org/name/' (default file) or 'org/name/file'
        return f"https://huggingface.co/{repo}/resolve/main/{filename or 'open_clip_pytorch_model.bin'}"
    return cfg.get("url", "")


def fetch_pretrained(model: str, tag: str) -> None:
    """Download (or find in open_clip's cache) the weights of `model` pretrained as `tag`; a clear
    error, naming the file to fetch, where the network does not allow it."""
    import open_clip

    cfg = open_clip.get_pretrained_cfg(model, tag)
    if not cfg:
        known = ", ".join(open_clip.list_pretrained_tags_by_model(model)) or "none"
        raise EncoderError(f"open_clip has no pretrained weights {tag!r} for {model!r} (known: {known})")
    try:
        open_clip.download_pretrained(cfg)  # huggingface_hub / urllib show their own progress bars
    except Exception as e:  # no network, a proxy, a full disk: each library raises its own types
        raise EncoderError(
            f"could not download the clip weights {model}/{tag} ({type(e).__name__}: {str(e)[:200]}). Fetch "
            f"{weights_url(cfg)} on a machine with network and set DAM_CLIP_CHECKPOINT to the file") from None


class ClipEncoder(ImageEncoder):
    """`model` is an open_clip architecture name, or a path to a model-config JSON for custom
    architectures; `checkpoint` a local weights file, or else `pretrained` an open_clip tag."""

    @classmethod
    def from_settings(cls, settings: Settings) -> ClipEncoder:
        return cls(settings.clip_model, settings.clip_checkpoint, pretrained=settings.clip_pretrained)

    @classmethod
    def key_for(cls, settings: Settings) -> str:
        return clip_key(settings.clip_model, settings.clip_checkpoint or settings.clip_pretrained)

    def __init__(self, model: str, checkpoint: str | None, device: str | None = None, pretrained: str | None = None):
        import open_clip
        import torch

        if checkpoint and not Path(checkpoint).is_file() or not checkpoint and not pretrained:
            raise EncoderError(
                f"the clip encoder needs weights: set DAM_CLIP_PRETRAINED to an open_clip pretrained name (e.g. "
                f"laion2b_s34b_b79k) or DAM_CLIP_CHECKPOINT to an open_clip checkpoint file (got {checkpoint!r})"
            )
        name = model
        if model.endswith(".json") and Path(model).is_file():
            open_clip.add_model_config(Path(model))
            name = Path(model).stem
        if not checkpoint:
            fetch_pretrained(name, str(pretrained))
        source = str(checkpoint or pretrained)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.uses_gpu = self.device.startswith("cuda")
        try:
            self.model, _, self.preprocess = open_clip.create_model_and_transforms(
                name, pretrained=source, device=self.device,
                precision="fp16" if self.uses_gpu else "fp32",
            )
        except Exception as e:  # torch/pickle/safetensors each raise their own types
            raise EncoderError(f"could not load clip weights {source}: {str(e)[:300]}") from None
        self.model.eval()
        self.tokenizer = open_clip.get_tokenizer(name)
        self.key = clip_key(model, source)
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
