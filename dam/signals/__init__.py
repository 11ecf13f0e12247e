"""Search signals: each turns the query into ranked lists of candidate moments, which
dam.search.fuse combines (reciprocal rank). A signal is a function `(library, query vectors, n)
-> list of candidate lists`, in its own module, named here; a new one is one file and one line.
The order is the order their lists reach the fusion."""

from __future__ import annotations

from collections.abc import Callable

from dam.registry import Registry
from dam.search import Candidate

Signal = Callable[..., list[list[Candidate]]]

SIGNALS: Registry[Signal] = Registry("search signal", {
    "picture": "dam.signals.pictures:by_picture",  # looks like the query picture
    "visual_text": "dam.signals.pictures:by_visual_text",  # the text, in the image encoder's space
    "names": "dam.signals.words:by_name",  # file names, paths and metadata (FTS5)
    "tags": "dam.signals.words:by_tags",  # shots and assets tagged by dam enrich
    "description": "dam.signals.meaning:by_description",  # descriptions close in meaning
    "speech": "dam.signals.speech:candidates",  # what was said, by meaning and by words
})
