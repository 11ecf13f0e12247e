"""Search returns moments, not files: vector hits on frames (L1) and scenes (L2), fused with
filename, metadata and text matches, grouped so one long video cannot flood the page."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from dam.catalog import Catalog
from dam.motion.store import matching
from dam.schema import Asset, Hit, Scene
from dam.store import VectorStore

RRF_K = 60
MOMENT_HALF = 4.0  # seconds either side of a frame hit when its scene is long


@dataclass
class QueryVectors:
    text: str | None = None
    image: np.ndarray | None = None  # the query picture, in the image encoder's space
    visual_text: np.ndarray | None = None  # the text, in the image encoder's space (CLIP only)
    sentence: np.ndarray | None = None  # the text, in the sentence encoder's space


class Filters(BaseModel):
    kind: str | None = None
    after: datetime | None = None
    before: datetime | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    min_height: int | None = None
    motion: bool | None = None  # has object motion (True) / analysed and still (False)
    motion_from: float | None = None  # object motion overlapping [motion_from, motion_to] seconds
    motion_to: float | None = None

    @property
    def on_motion(self) -> bool:
        return self.motion is not None or self.motion_from is not None or self.motion_to is not None

    def accept(self, a: Asset) -> bool:
        if a.status == "missing" or (self.kind and a.kind != self.kind):
            return False
        d = a.info.duration if a.info else None
        if self.min_duration is not None and (d or 0) < self.min_duration:
            return False
        if self.max_duration is not None and d is not None and d > self.max_duration:
            return False
        size = a.info.display_size if a.info else None
        if self.min_height is not None and (not size or min(size) < self.min_height):
            return False
        when = (a.info.creation_time if a.info and a.info.creation_time else a.added_at)
        if self.after and when.replace(tzinfo=None) < self.after.replace(tzinfo=None):
            return False
        if self.before and when.replace(tzinfo=None) > self.before.replace(tzinfo=None):
            return False
        return True


@dataclass
class Candidate:
    asset_id: str
    level: str
    score: float  # similarity or text rank score
    at: float | None
    scene: int | None
    why: str
    span: tuple[float, float] | None = None  # an exact moment (a spoken segment), when known


def _moment(c: Candidate, scenes: list[Scene], asset: Asset) -> tuple[float, float]:
    duration = (asset.info.duration if asset.info else None) or 0.0
    if c.span is not None:
        return c.span
    if c.scene is not None and c.scene < len(scenes):
        s = scenes[c.scene]
        start, end = s.start, s.end
        if c.at is not None and end - start > 2 * MOMENT_HALF:
            start, end = max(start, c.at - MOMENT_HALF), min(end, c.at + MOMENT_HALF)
        return start, end
    if c.at is not None:
        return max(0.0, c.at - MOMENT_HALF), min(duration or c.at + MOMENT_HALF, c.at + MOMENT_HALF)
    return 0.0, duration


def unknown_subject(text: str | None, visual_text: np.ndarray | None) -> str | None:
    """The notice for a text query that names nothing the picture model knows: its query vector
    is all zeros (dam/encoders/classmap.py), and pictures are not searched instead of returning
    noise. None when the query names something, or the encoder has no text side."""
    if not text or visual_text is None or np.any(visual_text):
        return None
    return (f"nothing in “{text}” is a subject the picture model knows (its 1000 ImageNet classes); "
            "matches come from names, metadata, tags and speech only")


def vector_candidates(store: VectorStore, key: str, vector: np.ndarray, n: int, why: str) -> list[Candidate]:
    """Frame (L1) and scene (L2) neighbours as one ranked list: a moment found at both levels
    counts once, at its best similarity."""
    found = [Candidate(m.meta["asset_id"], "L1", m.score, m.meta.get("t"), m.meta.get("scene"), why)
             for m in store.query("l1", key, vector, n)]
    # A scene vector's id, `<asset>:l2:<scene>`, holds all its candidate needs: no metadata to read.
    scenes = store.query("l2", key, vector, n, metadata=False)
    parts = [m.id.rsplit(":", 2) for m in scenes]
    if all(len(p) == 3 and p[1] == "l2" and p[2].isdigit() for p in parts):
        found += [Candidate(p[0], "L2", m.score, None, int(p[2]), why) for p, m in zip(parts, scenes)]
    else:  # ids written some other way: read what they stand for
        found += [Candidate(m.meta["asset_id"], "L2", m.score, m.meta.get("t"), m.meta.get("scene"), why)
                  for m in store.query("l2", key, vector, n)]
    return sorted(found, key=lambda c: -c.score)


def _whole(c: Candidate) -> bool:
    """A match on the whole asset (its name, its description), not on a moment of it."""
    return c.scene is None and c.at is None and c.span is None


def fuse(catalog: Catalog, ranked_lists: list[list[Candidate]], limit: int, filters: Filters | None = None,
         per_asset: int = 1) -> list[Hit]:
    """Reciprocal-rank fusion across signals (pictures, names, text), scaled so a moment ranked
    first by every signal scores 1.0; then the best `per_asset` moments of each asset. With a
    single signal the score is that signal's own (cosine similarity for a picture query)."""
    filters = filters or Filters()
    lists = [lst for lst in ranked_lists if lst]
    scored: dict[tuple, float] = defaultdict(float)
    best: dict[tuple, Candidate] = {}
    for lst in lists:
        seen: set[tuple] = set()
        rank = 0
        for c in lst:
            # A shot and an instant are different moments even when both are numbered 0 (scene 0 and
            # a whole-asset text match once shared a key, and a picture hit on the cameraman's shot
            # was shown at the first shot).
            key = (c.asset_id, "scene", c.scene) if c.scene is not None else \
                (c.asset_id, "at", c.span or round(c.at or 0))
            if key in seen:
                continue
            seen.add(key)
            scored[key] += (RRF_K + 1) / (RRF_K + rank + 1) / len(lists)
            rank += 1
            if key not in best or (c.level != "text" and c.score > best[key].score):
                best[key] = c
    ids = {k[0] for k in scored}
    if filters.on_motion:
        ids = matching(catalog, ids, filters.motion, filters.motion_from, filters.motion_to)
    per: dict[str, list[tuple[float, Candidate]]] = defaultdict(list)
    for key, s in scored.items():
        if key[0] in ids:
            per[key[0]].append((best[key].score if len(lists) == 1 else s, best[key]))
    for moments in per.values():  # on a tie, a shot or an instant before the whole asset
        moments.sort(key=lambda x: (-x[0], _whole(x[1]), -x[1].score))
    order = sorted(per.items(), key=lambda kv: (-kv[1][0][0], _whole(kv[1][0][1]), -kv[1][0][1].score))
    # Assets are read in rank order, a page at a time, until the page is full: the filters
    # usually pass the first ones, and the rest are never read.
    assets: dict[str, Asset] = {}
    ranked: list[tuple[str, list[tuple[float, Candidate]]]] = []
    for i in range(0, len(order), 2 * limit):
        if len(ranked) == limit:
            break
        chunk = order[i:i + 2 * limit]
        assets.update((a.id, a) for a in catalog.assets(ids=[aid for aid, _ in chunk], limit=len(chunk)))
        ranked += [(aid, m) for aid, m in chunk if aid in assets and filters.accept(assets[aid])][:limit - len(ranked)]
    hits: list[Hit] = []
    for aid, moments in ranked:
        scenes = catalog.scenes(aid)
        for s, c in moments[:per_asset]:
            start, end = _moment(c, scenes, assets[aid])
            thumb = scenes[c.scene].thumbnail if c.scene is not None and c.scene < len(scenes) else assets[aid].poster
            hits.append(Hit(asset_id=aid, path=assets[aid].path, start=round(start, 3), end=round(end, 3),
                            at=c.at, score=round(s, 5), level=c.level, why=c.why, thumbnail=thumb,
                            moments=len(moments)))
    hits.sort(key=lambda h: -h.score)  # stable: ties keep the order above
    return stack_duplicates(catalog, hits, assets, filters)[:limit]


def _pixels(a: Asset) -> tuple[int, int]:
    size = a.info.display_size if a.info else None
    return (size[0] * size[1] if size else 0), a.size or 0


def stack_duplicates(catalog: Catalog, hits: list[Hit], assets: dict[str, Asset], filters: Filters) -> list[Hit]:
    """Near-duplicates are one result: a hit on a proxy or a re-encode is shown on the original
    (the copy with the most pixels, then the biggest file) at the same moment, and names the
    other copies in `also_in` and its why line. A match on a file's own name or metadata stays on
    that file (searching a proxy's name finds the proxy). Hits stay in rank order."""
    out: dict[str, Hit] = {}
    for h in hits:
        if h.why.startswith("name/metadata match"):  # the file's own name: searching a proxy's name finds it
            out.setdefault(h.asset_id, h)
            continue
        group = {h.asset_id} | {r.other_id if r.asset_id == h.asset_id else r.asset_id
                                for r in catalog.relations(h.asset_id) if r.kind == "near_duplicate"}
        if len(group) > 1 and (missing := [g for g in group if g not in assets]):
            assets.update((a.id, a) for a in catalog.assets(ids=missing, limit=len(missing)))
        group = {g for g in group if g in assets and filters.accept(assets[g])} | {h.asset_id}
        orig = max(sorted(group), key=lambda g: _pixels(assets[g]))
        if orig in out:  # the original's moment is already on the page
            if h.path != out[orig].path and h.path not in out[orig].also_in:
                out[orig].also_in.append(h.path)
            continue
        if orig != h.asset_id:
            h = h.model_copy(update={"asset_id": orig, "path": assets[orig].path})
        h.also_in = sorted(assets[g].path for g in group if g != orig)
        if h.also_in:
            h.why += " · also in " + ", ".join(Path(p).name for p in h.also_in)
        out[orig] = h
    return list(out.values())
