"""Text -> the vision model's classes, without CLIP: the query (and each of its words and word
pairs) is compared, with the sentence encoder (MiniLM), to every class name and everyday
category in labels.py. Classes close enough get a weight; a query close to none of them names
nothing the model knows ("astronaut": ImageNet has no such class), and the caller says so.

The phrase vectors are computed once per machine and text model and kept in the user cache
(~2,400 phrases: a few seconds of MiniLM that no `dam search` should pay)."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np

from dam.encoders.base import TextEncoder
from dam.encoders.labels import class_names, parents

# Cosine (MiniLM) a phrase needs to name a class. Measured: 'motorbike'->'motorcycle' 1.0 (a
# category), 'navy officer'->'admiral' 0.74, 'cameraman'->'camera' 0.69, 'wedding'->'groom' 0.78;
# subjects ImageNet has no class for stay below: 'astronaut'->'spacecraft' 0.63, 'temple' 0.59,
# 'sunset' 0.51, 'city' 0.50 (tests/test_vision.py, benchmarks/vision.py).
KNOWN = 0.67
# A single word of a longer query counts a little less than the query or a word pair, so 'hot dog'
# names the hotdog (pair, 1.0) and not the 130 dogs (word, 0.9 after this).
WORD = 0.9
# Classes within this of the best match share the query (a 'cat' is any of the five cats).
MARGIN = 0.08
_STOP = frozenset("a an the of on in at with and or to for from by some photo picture image video footage shot "
                  "clip scene showing shows is are".split())


def _cache_file(text_key: str, phrases: list[str]) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    tag = hashlib.blake2b("\n".join(phrases).encode(), digest_size=6).hexdigest()
    return base / "dam" / "classmap" / f"{text_key}-{tag}.npy"


def segments(query: str) -> dict[str, float]:
    """The whole query, its adjacent content-word pairs and its content words ('a man with a
    camera on a tripod' -> ..., 'camera', 'tripod'), each with the weight its match counts with:
    a long query can name several things."""
    words = [w for w in re.findall(r"[\w'-]+", query.lower()) if w not in _STOP]
    out = {query.strip(): 1.0}
    for i in range(len(words) - 1):
        out.setdefault(" ".join(words[i : i + 2]), 1.0)
    for w in words:
        out.setdefault(w, WORD if len(words) > 1 else 1.0)
    return {k: v for k, v in out.items() if k}


class ClassMap:
    def __init__(self, text: TextEncoder):
        self.text = text
        names, pars = class_names(), parents()
        phrases = sorted({p for c in range(len(names)) for p in (*names[c], *pars[c])})
        index = {p: i for i, p in enumerate(phrases)}
        # owner[k] = classes phrase k names; a class's own names and its categories count alike.
        self.members = [[index[p] for p in (*names[c], *pars[c])] for c in range(len(names))]
        self.phrases = phrases
        cache = _cache_file(getattr(text, "key", "text"), phrases)
        try:
            vecs = np.load(cache)
            assert vecs.shape == (len(phrases), text.dim)
        except (OSError, ValueError, AssertionError):
            vecs = text.embed(phrases)
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(tmp, vecs)
            tmp.replace(cache)
        self.vectors = np.asarray(vecs, np.float32)
        width = max(len(m) for m in self.members)
        self._table = np.full((len(names), width), len(phrases), np.int64)  # padded with a sentinel column
        for c, m in enumerate(self.members):
            self._table[c, : len(m)] = m

    def scores(self, query: str) -> np.ndarray:
        """Per class: the best cosine between any segment of the query and any name of the class."""
        seg = segments(query)
        if not seg:  # only spaces or punctuation: it names no class (found by tests/test_openapi_fuzz.py)
            return np.full(len(self._table), -1.0, np.float32)
        q = self.text.embed(list(seg))
        sims = (self.vectors @ q.T * np.asarray(list(seg.values()), np.float32)).max(axis=1)  # per phrase
        return np.append(sims, -1.0)[self._table].max(axis=1)

    def weights(self, query: str) -> np.ndarray:
        """Class weights for a query: zero everywhere when it names nothing the model knows."""
        s = self.scores(query)
        best = float(s.max())
        if best < KNOWN:
            return np.zeros(len(s), np.float32)
        keep = s >= max(KNOWN, best - MARGIN)
        return np.where(keep, s - KNOWN + 0.05, 0.0).astype(np.float32)

    def named(self, query: str, k: int = 5) -> list[tuple[int, float]]:
        """The classes a query names, best first (for 'why' lines and tests)."""
        w = self.weights(query)
        order = np.argsort(-w)[:k]
        return [(int(c), float(w[c])) for c in order if w[c] > 0]
