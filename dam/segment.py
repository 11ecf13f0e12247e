"""L2 from a finished asset's shard results: scenes, their vectors and hero frames."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from dam.encoders.base import unit
from dam.media.quality import pick_hero
from dam.schema import Scene

log = logging.getLogger("dam")


@dataclass
class AssetFrames:
    """Everything the pipeline returned for one asset, in frame order."""

    fps: float
    shards: int
    index: list[np.ndarray] = field(default_factory=list)
    times: list[np.ndarray] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    quality: list[np.ndarray] = field(default_factory=list)
    cuts: list[np.ndarray] = field(default_factory=list)
    end: int = 0
    received: int = 0
    errors: list[str] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)
    lost: list[tuple[int, int]] = field(default_factory=list)  # frame ranges the decoder could not read

    def add(self, row: dict) -> bool:
        """Take one shard's result; False (and nothing changes) for a shard already taken, so a
        result delivered twice after a retry can never double an asset's frames."""
        if row["shard"] in self.seen:
            return False
        self.seen.add(row["shard"])
        self.received += 1
        if row.get("error"):
            self.errors.append(row["error"])
            if row.get("trace"):  # not a bad file but a bug: keep the evidence
                log.warning("shard %s of %s failed unexpectedly:\n%s", row["shard"], row["path"], row["trace"])
            return True
        self.lost += [(int(a), int(b)) for a, b in np.asarray(row.get("lost", ()), np.int64).reshape(-1, 2)]
        self.end = max(self.end, int(row["end"]))
        if len(row["index"]):
            self.index.append(np.asarray(row["index"]))
            self.times.append(np.asarray(row["times"]))
            self.vectors.append(np.asarray(row["vectors"], np.float32))
            self.quality.append(np.asarray(row["quality"]))
        self.cuts.append(np.asarray(row["cuts"]).reshape(-1, 4))
        return True

    def lost_seconds(self) -> list[tuple[float, float]]:
        """Lost ranges in seconds, touching ranges merged (a range can span shards)."""
        merged: list[list[int]] = []
        for a, b in sorted(self.lost):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        return [(round(a / self.fps, 3), round(b / self.fps, 3)) for a, b in merged]

    @property
    def complete(self) -> bool:
        return self.received == self.shards

    def merged(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if not self.index:
            return (np.zeros(0, np.int64), np.zeros(0), np.zeros((0, 0), np.float32), np.zeros(0), np.zeros((0, 4), np.int64))
        index = np.concatenate(self.index)
        order = np.argsort(index, kind="stable")
        cuts = np.concatenate(self.cuts) if self.cuts else np.zeros((0, 4), np.int64)
        cuts = cuts[np.argsort(cuts[:, 2])] if len(cuts) else cuts
        return (index[order], np.concatenate(self.times)[order], np.concatenate(self.vectors)[order],
                np.concatenate(self.quality)[order], cuts)


def damage_note(lost: list[tuple[float, float]], duration: float | None) -> str:
    """'damaged: 0:08.4-0:09.6 could not be decoded (1.2 s of 20.0 s); the rest is indexed'."""
    def clock(t: float) -> str:
        return f"{int(t // 60)}:{t % 60:04.1f}"

    spans = ", ".join(f"{clock(a)}–{clock(b)}" for a, b in lost[:8]) + (" …" if len(lost) > 8 else "")
    gone = sum(b - a for a, b in lost)
    of = f" of {duration:.1f} s" if duration else ""
    return f"damaged: {spans} could not be decoded ({gone:.1f} s{of}); the rest is indexed"


def build_scenes(asset_id: str, cuts: np.ndarray, end_frame: int, fps: float) -> list[Scene]:
    splits = [0] + [int(c[2]) for c in cuts if 0 < c[2] < end_frame] + [end_frame]
    kinds = ["start"] + ["cut" if c[3] else "gradual" for c in cuts if 0 < c[2] < end_frame]
    return [
        Scene(asset_id=asset_id, index=i, start=a / fps, end=b / fps, start_frame=a, end_frame=b, transition=kinds[i])
        for i, (a, b) in enumerate(zip(splits, splits[1:]))
        if b > a
    ]


def scene_of(index: np.ndarray, scenes: list[Scene]) -> np.ndarray:
    starts = np.asarray([s.start_frame for s in scenes])
    return np.clip(np.searchsorted(starts, index, side="right") - 1, 0, len(scenes) - 1)


def scene_vectors(scenes: list[Scene], which: np.ndarray, times: np.ndarray, vectors: np.ndarray,
                  quality: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Mean L1 vector per scene and its hero frame (sets scene.hero_time); returns the scenes
    that have frames and their vectors."""
    kept, vecs = [], []
    for s in scenes:
        mask = which == s.index
        if not mask.any():
            continue
        hero = pick_hero(quality[mask], vectors[mask])
        s.hero_time = float(times[mask][hero])
        kept.append(s.index)
        vecs.append(vectors[mask].mean(axis=0))
    return kept, unit(np.stack(vecs)) if vecs else np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), np.float32)
