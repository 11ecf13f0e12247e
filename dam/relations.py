"""L3: links across the library. Near-duplicates are confirmed frame by frame (a re-encoded,
rescaled or cropped copy matches most of its frames); similar scenes come from L2 neighbours."""

from __future__ import annotations

import numpy as np

from dam.catalog import Catalog
from dam.config import Settings
from dam.schema import Relation
from dam.store import VectorStore


def matched_fraction(a: np.ndarray, b: np.ndarray, threshold: float) -> tuple[float, float]:
    """Share of a's frames with a match in b, and of b's frames with a match in a."""
    if len(a) == 0 or len(b) == 0:
        return 0.0, 0.0
    sim = a @ b.T
    return float((sim.max(axis=1) >= threshold).mean()), float((sim.max(axis=0) >= threshold).mean())


def relate(asset_id: str, catalog: Catalog, store: VectorStore, key: str, settings: Settings) -> list[Relation]:
    out: list[Relation] = []
    _, l0, _ = store.vectors_of("l0", key, asset_id)
    _, l1, _ = store.vectors_of("l1", key, asset_id)
    if len(l0):
        for cand in store.query("l0", key, l0[0], 20, where={"asset_id": {"$ne": asset_id}}):
            if cand.score < settings.duplicate_candidate_similarity:
                continue
            other = cand.meta["asset_id"]
            _, l1b, _ = store.vectors_of("l1", key, other)
            fa, fb = matched_fraction(l1, l1b, settings.frame_match_similarity)
            if min(fa, fb) >= settings.near_duplicate_threshold:
                out.append(Relation(kind="near_duplicate", asset_id=asset_id, other_id=other, score=round(min(fa, fb), 4),
                                    detail={"matched_here": round(fa, 4), "matched_there": round(fb, 4)}))
    dup = {r.other_id for r in out}
    pairs: dict[str, list] = {}
    ids, l2, metas = store.vectors_of("l2", key, asset_id)
    for vec, meta in zip(l2, metas):
        for m in store.query("l2", key, vec, 5, where={"asset_id": {"$ne": asset_id}}):
            other = m.meta["asset_id"]
            if m.score >= settings.similar_scene_similarity and other not in dup:
                pairs.setdefault(other, []).append({"scene": meta["scene"], "other_scene": m.meta["scene"],
                                                    "score": round(m.score, 4)})
    for other, matches in pairs.items():
        out.append(Relation(kind="similar_scene", asset_id=asset_id, other_id=other,
                            score=max(x["score"] for x in matches), detail={"scenes": matches[:50]}))
    catalog.replace_relations(asset_id, out, kinds=("near_duplicate", "similar_scene"))
    return out
