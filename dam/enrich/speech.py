"""Speech present and the words that matter, from the stored transcript (dam.audio.store); a file with
no audio stream is labelled silent. Audio that was never transcribed is not guessed at."""

from __future__ import annotations

from dam.enrich.model import Context, Label, Source, SourceSkipped
from dam.enrich.vocabulary import transcript_keywords
from dam.schema import Note


class Speech(Source):
    name = "speech"

    def __init__(self, keywords: int = 8):
        self.keywords = keywords

    def labels(self, ctx: Context) -> list[Label]:
        tr = ctx.transcript
        if ctx.asset.kind == "image":
            raise SourceSkipped("a still image has no sound")
        if tr is None:
            if ctx.asset.info is not None and not ctx.asset.info.audio:
                return [Label(name="no sound", facet="audio", source=self.name, confidence=1.0)]
            raise SourceSkipped("audio not transcribed (dam transcribe / DAM_TRANSCRIBE_ON_INGEST)")
        text = " ".join(s.text for s in tr.segments).strip()
        if not text:
            return [Label(name="no speech", facet="audio", source=self.name, confidence=0.7)]
        words = transcript_keywords([Note(start=s.start, end=s.end, text=s.text) for s in tr.segments], self.keywords)
        return [Label(name="speech", facet="audio", source=self.name, confidence=0.9),
                *(Label(name=w, source=self.name, confidence=0.6) for w in words)]
