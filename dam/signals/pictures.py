"""Pictures: moments whose frames look like the query picture, or like the query text where the
image encoder reads text (CLIP, or the vision model's ImageNet classes)."""

from __future__ import annotations

import numpy as np

from dam.search import Candidate, QueryVectors, vector_candidates


def by_picture(lib, q: QueryVectors, n: int) -> list[list[Candidate]]:
    if q.image is None:
        return []
    return [vector_candidates(lib.store, lib.key, q.image, n, "looks like the query image")]


def by_visual_text(lib, q: QueryVectors, n: int) -> list[list[Candidate]]:
    if not q.text or q.visual_text is None or not np.any(q.visual_text):  # zeros: names no class (unknown_subject)
        return []
    return [vector_candidates(lib.store, lib.key, q.visual_text, n, _why(lib, q))]


def _why(lib, q: QueryVectors) -> str:
    """'pictures show “a cat” (Egyptian cat, tabby, tiger cat)': the classes the query was read as."""
    # The vision encoder's module (and its class names) only when a search explains itself:
    # 36 ms of every `dam` command's start otherwise.
    from dam.encoders.vision import KEY, named_classes

    named = named_classes(q.visual_text) if lib.key == KEY else []
    return f"pictures show “{q.text}” ({', '.join(named)})" if named else f"pictures match “{q.text}”"
