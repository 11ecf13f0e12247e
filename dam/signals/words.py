"""Words: file names, paths and metadata (the catalog's FTS5), and the tags and descriptions
`dam enrich` stored (a matching shot is the better moment, so an asset found by a shot is not
listed again by its asset-level tags)."""

from __future__ import annotations

from dam.enrich.store import scene_matches, text_matches
from dam.search import Candidate, QueryVectors


def by_name(lib, q: QueryVectors, n: int) -> list[list[Candidate]]:
    if not q.text:
        return []
    return [[Candidate(aid, "text", score, None, None, f"name/metadata match “{q.text}”")
             for aid, score in lib.catalog.text_search(q.text, n)]]


def by_tags(lib, q: QueryVectors, n: int) -> list[list[Candidate]]:
    if not q.text:
        return []
    shots = scene_matches(lib.catalog, q.text, n)
    shot_ids = {aid for aid, _, _ in shots}
    return [[Candidate(aid, "text", score, None, scene, f"shot tagged “{q.text}”") for aid, scene, score in shots],
            [Candidate(aid, "text", score, None, None, f"tags/description match “{q.text}”")
             for aid, score in text_matches(lib.catalog, q.text, n) if aid not in shot_ids]]
