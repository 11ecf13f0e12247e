"""Labels from the pixels of a few sampled frames: dominant colours by name, light level (and a
cautious day/night guess from it), sharpness, and shot pace from the scene count."""

from __future__ import annotations

import cv2
import numpy as np

from dam.enrich.model import Context, Label, Source, SourceSkipped

# OpenCV hue is 0..179; (upper bound, name) for saturated, not-too-dark pixels.
HUES = ((8, "red"), (20, "orange"), (33, "yellow"), (85, "green"), (100, "teal"), (130, "blue"), (150, "purple"),
        (170, "pink"), (180, "red"))
DOMINANT = 0.2  # share of the picture for a colour to count as dominant


def colour_shares(frames: np.ndarray) -> dict[str, float]:
    """Share of pixels per colour name (achromatic pixels: black, grey, white; dark oranges: brown)."""
    hsv = cv2.cvtColor(frames.reshape(-1, frames.shape[2], 3), cv2.COLOR_RGB2HSV).reshape(-1, 3).astype(np.int32)
    h, s, v = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    names = np.empty(len(hsv), dtype=object)
    names[:] = "grey"
    names[v > 200] = "white"
    chroma = (s >= 60) & (v >= 50)
    bounds = np.array([b for b, _ in HUES])
    idx = np.searchsorted(bounds, h[chroma], side="right")
    names[chroma] = np.array([n for _, n in HUES], dtype=object)[np.minimum(idx, len(HUES) - 1)]
    names[chroma & (names == "orange") & (v < 150)] = "brown"
    names[v < 50] = "black"
    labels, counts = np.unique(names, return_counts=True)
    return {str(n): float(c) / len(names) for n, c in zip(labels, counts)}


def luma(frames: np.ndarray) -> float:
    return float((frames[..., :3] @ np.array([0.299, 0.587, 0.114])).mean())


def sharpness(frames: np.ndarray) -> float:
    """Median Laplacian variance at a fixed width, so the figure does not depend on resolution."""
    out = []
    for f in frames:
        g = cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)
        g = cv2.resize(g, (320, max(1, round(320 * g.shape[0] / g.shape[1]))), interpolation=cv2.INTER_AREA)
        out.append(cv2.Laplacian(g, cv2.CV_32F).var())
    return float(np.median(out))


class Picture(Source):
    name = "picture"

    def labels(self, ctx: Context) -> list[Label]:
        if not len(ctx.frames):
            raise SourceSkipped("no frames decoded")
        L = lambda n, f, c: Label(name=n, facet=f, source=self.name, confidence=round(min(1.0, c), 3))  # noqa: E731
        out = [L(n, "colour", share) for n, share in sorted(colour_shares(ctx.frames).items(), key=lambda x: -x[1])
               if share >= DOMINANT]
        y = luma(ctx.frames)
        if y < 50:
            out += [L("low light", "light", 1 - y / 100), L("night", "time of day", 0.6 * (1 - y / 50) + 0.3)]
        elif y > 150:
            out += [L("bright", "light", y / 255), L("day", "time of day", 0.4)]
        flat = float(np.median([f.std() for f in ctx.frames])) < 8
        if not flat:
            s = sharpness(ctx.frames)
            if s >= 150:
                out.append(L("sharp", "focus", 0.5 + s / 2000))
            elif s < 20:
                out.append(L("soft focus", "focus", 0.5 + (20 - s) / 40))
        info = ctx.asset.info
        if ctx.asset.kind == "video" and ctx.scenes and info and info.duration:
            cuts_per_min = (len(ctx.scenes) - 1) / info.duration * 60
            pace = "single shot" if len(ctx.scenes) == 1 else "fast-paced" if cuts_per_min > 20 else \
                "slow-paced" if cuts_per_min < 6 else "moderate pace"
            out.append(L(pace, "pace", 0.9))
        return out
