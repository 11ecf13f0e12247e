"""Words dam ranks and picks: the stock vocabulary a text-capable encoder scores an asset
against (enrich's clip source, exports' keywords), and the keywords of what was said."""

from __future__ import annotations

import re
from collections import Counter

from dam.schema import Note

# Concepts stock buyers search for; ranked against the asset vector by a text-capable encoder.
STOCK_VOCABULARY = (
    "aerial view", "beach", "sea", "ocean waves", "sunset", "sunrise", "sky", "clouds", "mountains", "forest",
    "trees", "river", "lake", "waterfall", "snow", "desert", "city", "skyline", "street", "traffic", "night",
    "lights", "building", "architecture", "interior", "office", "home", "kitchen", "people", "person", "woman",
    "man", "child", "family", "crowd", "portrait", "face", "hands", "interview", "business", "meeting",
    "technology", "computer", "phone", "car", "road", "train", "airplane", "boat", "animal", "dog", "cat", "bird",
    "horse", "flowers", "garden", "food", "restaurant", "sport", "running", "football", "music", "concert",
    "party", "wedding", "celebration", "nature", "landscape", "abstract", "pattern", "texture", "colorful",
    "black and white", "fire", "water", "rain", "storm", "space", "stars", "industry", "factory", "construction",
    "medical", "science", "education", "travel", "tourism", "summer", "winter", "autumn", "spring",
)

_STOP = set("""a an and are as at be by for from has have in is it its of on or that the this to was were will with
i you he she we they them his her our your my me not but so if then than there here what which who when where how
all any can do does did just about into over out up down off again very too also only own same such no nor yes
um uh oh ok okay""".split())


def transcript_keywords(sections: list[Note], k: int = 10) -> list[str]:
    words = Counter(w for s in sections for w in re.findall(r"[a-zA-Z][a-zA-Z'-]{2,}", s.text.lower())
                    if w not in _STOP)
    return [w for w, _ in words.most_common(k)]
