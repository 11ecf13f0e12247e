"""What dam says about an asset in words: title, description, keywords, dates, rating and notes.

One model feeds every outward format (XMP sidecars, stock CSVs, timelines). Keywords come from
the picture when the encoder can read text (CLIP: the asset vector ranked against a stock
vocabulary), from probe metadata (resolution, frame rate, camera), from the file and folder
names and, when given, from the transcript. Transcript and motion are plain optional inputs
so this module does not depend on how they are produced."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from dam.enrich.store import view
from dam.enrich.vocabulary import STOCK_VOCABULARY, transcript_keywords
from dam.library_ops.store import rating_of
from dam.library_ops.stored import motion_intervals, transcript_sections
from dam.schema import Asset, Note, Scene


class AssetMetadata(BaseModel):
    asset_id: str
    path: str
    name: str
    kind: str
    title: str
    description: str
    keywords: list[str]
    created: datetime | None = None
    modified: datetime | None = None
    duration: float | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    rating: int | None = Field(None, description="0–5 stars; a reject is written as XMP rating -1.")
    flag: str | None = None
    make: str | None = None
    model: str | None = None
    notes: list[Note] = Field(default_factory=list)


def words_of(name: str) -> list[str]:
    """Words in a file or folder name: separators split, numbers and camera counters dropped."""
    parts = re.split(r"[\s_\-.+,;'\"()\[\]]+", name)
    return [w.lower() for w in parts if len(w) > 1 and not re.fullmatch(r"(?i)(\d+|[a-z]{1,4}\d+|take|clip|img|mvi|dsc)", w)]


def rank_tags(asset_vec: np.ndarray, tag_vecs: np.ndarray, tags: list[str] | tuple[str, ...], k: int = 8,
              margin: float = 0.0) -> list[str]:
    """The k tags closest to the asset vector, keeping only those above the vocabulary's mean
    similarity plus `margin` (z-score units): a picture that matches nothing gets few tags."""
    sims = tag_vecs @ asset_vec
    cut = sims.mean() + margin * (sims.std() or 1.0)
    order = np.argsort(-sims)[:k]
    return [tags[i] for i in order if sims[i] > cut]


def technical_tags(a: Asset) -> list[str]:
    info = a.info
    tags = [a.kind]
    if info is None:
        return tags
    if info.video:
        v = info.video
        short = min(v.width, v.height)
        tags += ["8k"] if short >= 4000 else ["4k"] if short >= 2000 else ["full hd", "hd"] if short >= 1000 else \
            ["hd"] if short >= 700 else []
        if v.height > v.width:
            tags.append("vertical")
        if v.hdr:
            tags.append("hdr")
        if a.kind == "video" and v.fps and v.fps >= 48:
            tags.append("slow motion")
    tags += [x.lower() for x in (info.make, info.model) if x]
    return tags


def clock(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m)}:{s:04.1f}"


def describe(a: Asset, scenes: list[Scene], visual_tags: list[str] | None = None, rating: int | None = None,
             flag: str | None = None, transcript: list[tuple[float, float, str]] | None = None,
             motion: list[tuple[float, float, str]] | None = None) -> AssetMetadata:
    """Everything outward formats need about one asset (pure: the caller fetches the inputs)."""
    visual = list(visual_tags or [])
    sections = [Note(start=s, end=e, text=t, kind="transcript") for s, e, t in (transcript or [])]
    moves = [Note(start=s, end=e, text=t or "motion", kind="motion") for s, e, t in (motion or [])]
    stem_words = words_of(Path(a.path).stem)
    folder_words = words_of(Path(a.path).parent.name)
    keywords = list(dict.fromkeys(visual + transcript_keywords(sections) + stem_words + folder_words
                                  + technical_tags(a)))[:49]
    base = " ".join(stem_words) or Path(a.path).stem
    title = (f"{visual[0].capitalize()}, {base}" if visual else base.capitalize())[:200]
    info = a.info
    bits = []
    if info and info.video:
        v = info.video
        res = f"{v.width}x{v.height}"
        bits.append(f"{res} {a.kind}" + (f" at {v.fps:g} fps" if a.kind == "video" and v.fps else ""))
    else:
        bits.append(a.kind)
    if info and info.duration and a.kind != "image":
        bits.append(f"{clock(info.duration)} long")
    if len(scenes) > 1:
        bits.append(f"{len(scenes)} shots")
    if info and (info.make or info.model):
        bits.append("shot on " + " ".join(x for x in (info.make, info.model) if x))
    description = ", ".join(bits)
    if visual:
        description = f"{', '.join(visual[:5]).capitalize()}. {description[0].upper()}{description[1:]}"
    if sections:
        description += f'. Speech: "{sections[0].text[:120]}"'
    notes = [Note(start=s.start, end=s.end, text=f"Shot {s.index + 1} ({s.transition})", kind="scene") for s in scenes]
    return AssetMetadata(
        asset_id=a.id, path=a.path, name=a.name, kind=a.kind, title=title, description=description[:1000] + ".",
        keywords=keywords, created=info.creation_time if info else None,
        modified=datetime.fromtimestamp(a.mtime).astimezone(), duration=info.duration if info else None,
        fps=info.video.fps if info and info.video else None, width=info.video.width if info and info.video else None,
        height=info.video.height if info and info.video else None, rating=rating, flag=flag,
        make=info.make if info else None, model=info.model if info else None, notes=notes + sections + moves,
    )


def describe_asset(lib, a: Asset, transcript=None, motion=None) -> AssetMetadata:
    """describe() with the inputs fetched from a Library (visual tags only with a text-capable encoder;
    transcript sections and motion intervals from the catalog unless given)."""
    visual: list[str] = []
    # Zero-shot stock words need a joint text-picture space (CLIP). The vision model's text side
    # maps words onto ImageNet classes, and on footage of no such class (test patterns) its best
    # guess titled a gradient "Animal"; its confident labels come through `dam enrich` instead.
    tag_vecs = lib.image_encoder.embed_text(list(STOCK_VOCABULARY)) if lib.settings.encoder == "clip" else None
    if tag_vecs is not None:
        _, vecs, _ = lib.store.vectors_of("l0", lib.key, a.id)
        if len(vecs):
            visual = rank_tags(vecs[0], np.asarray(tag_vecs), STOCK_VOCABULARY, margin=1.0)

    r = rating_of(lib.catalog, a.id)
    transcript = transcript_sections(lib, a.id) if transcript is None else transcript
    motion = motion_intervals(lib, a.id) if motion is None else motion
    m = describe(a, lib.catalog.scenes(a.id), visual, r.rating, r.flag, transcript, motion)
    enriched = view(lib.catalog, a.id)  # dam enrich's tags and description (people's edits included) lead
    if enriched is not None:
        m.keywords = list(dict.fromkeys(enriched.keywords + m.keywords))[:49]
        m.description = enriched.description or m.description
    return m
