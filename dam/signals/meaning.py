"""Meaning: descriptions and metadata documents whose sentence vector is close to the query's
(spoken segments are the speech signal's)."""

from __future__ import annotations

from dam.search import Candidate, QueryVectors


def by_description(lib, q: QueryVectors, n: int) -> list[list[Candidate]]:
    if not q.text or q.sentence is None:
        return []
    found = lib.store.query("text", lib.text_encoder_key, q.sentence, n, where={"source": {"$ne": "speech"}})
    return [[Candidate(m.meta["asset_id"], "text", m.score, m.meta.get("start"), None,
                       f"description close to “{q.text}”") for m in found if m.score > lib.settings.text_match_min]]
