"""Topic shifts in a transcript by lexical cohesion (TextTiling's idea, at segment grain).

Speakers often change subject without a long pause; a section that only breaks at silences then
runs on for minutes. Comparing the content words on either side of each gap finds where the
vocabulary turns over, with no model and no network, and works on any backend's output."""

from __future__ import annotations

import math
import re
from collections import Counter

# Function words carry no topic; a short list is enough because cohesion is relative.
STOPWORDS = frozenset("""a about after again all also an and any are as at be been before being but by can could
did do does doing down for from had has have he her here him his how i if in into is it its just let like me more
most my no not now of off on once one only or other our out over she so some than that the their them then there
these they this those through to too under up very was we were what when where which while who why will with would
yes you your okay ok right well yeah um uh""".split())


def terms(text: str) -> Counter[str]:
    """Content words, crudely stemmed (first six letters) so 'lenses' and 'lens' meet."""
    return Counter(w[:6] for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2 and w not in STOPWORDS)


def cohesion(left: Counter[str], right: Counter[str]) -> float:
    """Cosine similarity of two term bags; 0 when either side has no content words."""
    dot = sum(n * right[t] for t, n in left.items())
    norm = math.sqrt(sum(n * n for n in left.values()) * sum(n * n for n in right.values()))
    return dot / norm if norm else 0.0


def topic_breaks(texts: list[str], window: int = 3, threshold: float = 0.05) -> set[int]:
    """Indexes i where a new topic starts at texts[i]: `window` items each side share
    (almost) no content words, and each side is cohesive enough to be a topic at all."""
    bags = [terms(t) for t in texts]
    out: set[int] = set()
    last = 0
    for i in range(window, len(texts) - window + 1):
        if i - last < window:
            continue
        left, right = sum(bags[i - window:i], Counter()), sum(bags[i:i + window], Counter())
        if sum(left.values()) < window or sum(right.values()) < window:
            continue  # too few words to tell a topic from noise
        if cohesion(left, right) <= threshold:
            out.add(i)
            last = i
    return out
