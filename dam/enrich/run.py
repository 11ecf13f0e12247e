"""Run the sources over one asset (pure: inputs in, Enrichment out) and over many (the driver
stores; as an ingest stage the work runs as Ray tasks, like transcription)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dam.audio.store import transcript_of
from dam.config import Settings
from dam.enrich import store
from dam.enrich.model import Context, Enrichment, Label, Source, SourceSkipped
from dam.enrich.prose import describe
from dam.media.decode import DecodeError, decode_frames, decode_size
from dam.motion.store import load as load_motion
from dam.progress import Quiet
from dam.registry import Registry
from dam.runtime.fanout import fan_out
from dam.schema import Asset, ErrorRecord, Scene


def sample_frames(a: Asset, n: int, short_side: int = 160,
                  spans: list[tuple[int, int]] | None = None) -> list[np.ndarray]:
    """n frames spread evenly over each span of frame numbers (default: the whole asset; an image
    is its one frame), RGB; a damaged file gives the frames that decode."""
    import cv2

    info = a.info
    empty = np.zeros((0, 1, 1, 3), np.uint8)
    if info is None or info.video is None:
        return [empty for _ in spans or [None]]
    if a.kind == "image":
        img = cv2.imread(a.path, cv2.IMREAD_COLOR)
        return [empty if img is None else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)[None]]
    v = info.video
    size = decode_size(v.width, v.height, short_side)
    total = v.frame_count or max(1, round((info.duration or 0) * (v.fps or 25.0)))
    out = []
    for lo, hi in spans or [(0, total)]:
        lo, hi = max(0, lo), min(total, hi)
        if hi - lo <= 0:
            out.append(empty)
            continue
        idx = np.unique(np.linspace(lo, hi - 1, num=min(n, hi - lo) + 2).round().astype(int)[1:-1]) \
            if hi - lo > 2 else np.arange(lo, hi)
        frames, _ = decode_frames(Path(a.path), idx.tolist(), size, v.rotation)  # a damaged file gives what decodes
        out.append(frames if len(frames) else empty)
    return out


# Enrichment sources by name, in the order their labels are listed. A new one: a Source subclass
# in its own module under dam/enrich/ and one line here.
SOURCES: Registry[Source] = Registry("enrichment source", {
    "technical": "dam.enrich.technical:Technical",
    "picture": "dam.enrich.picture:Picture",
    "vision": "dam.enrich.content:Content",
    "speech": "dam.enrich.speech:Speech",
    "motion": "dam.enrich.motion:Motion",
    "faces": "dam.enrich.faces:Faces",
    "clip": "dam.enrich.clip:Clip",
})


def make_sources(settings: Settings) -> tuple[list[Source], dict[str, str]]:
    """Every source that can run with this configuration, and why the others cannot."""
    sources: list[Source] = []
    skipped = {}
    for name in SOURCES.names():
        try:
            sources.append(SOURCES.get(name).from_settings(settings))
        except SourceSkipped as e:
            skipped[name] = str(e)
    return sources, skipped


def enrich_one(sources: list[Source], a: Asset, scenes: list[Scene], motion=None, transcript=None,
               frames: int = 8, skipped: dict[str, str] | None = None) -> Enrichment:
    # frames at the vision model's input size (224), which the colour and light sources read as well
    ctx = Context(asset=a, frames=sample_frames(a, frames, short_side=224)[0], scenes=scenes, motion=motion,
                  transcript=transcript)
    out = Enrichment(asset_id=a.id, skipped=dict(skipped or {}))
    for s in sources:
        try:
            out.labels += s.labels(ctx)
        except SourceSkipped as e:
            out.skipped[s.name] = str(e)
    per_shot = [s for s in sources if s.name in ("picture", "vision")]
    if per_shot and a.kind == "video" and len(scenes) > 1:  # what each shot looks like and shows
        spans = [(sc.start_frame, sc.end_frame) for sc in scenes]
        for sc, fr in zip(scenes, sample_frames(a, 3, short_side=224, spans=spans)):
            for s in per_shot:
                try:
                    out.scenes.setdefault(sc.index, []).extend(s.labels(Context(asset=a, frames=fr)))
                except SourceSkipped:
                    pass
        # What a video shows is what its shots show: the asset's picture labels are each shot's,
        # at the shot's confidence (8 frames spread over six subjects would leave each at ~1/6).
        best: dict[tuple[str, str], Label] = {}
        for lb in (lb for labels in out.scenes.values() for lb in labels if lb.source == "vision"):
            if best.get((lb.facet, lb.name)) is None or lb.confidence > best[(lb.facet, lb.name)].confidence:
                best[(lb.facet, lb.name)] = lb
        if best:
            out.labels = [lb for lb in out.labels if lb.source != "vision"] + \
                sorted(best.values(), key=lambda lb: -lb.confidence)
    out.description = describe(out.labels, a.kind, a.info.duration if a.info else None)
    return out


def enrich_assets(lib, assets: list[Asset], progress=None, use_ray: bool = False) -> list[tuple[str, str]]:
    """Enrich and store each asset; returns (path, reason) of those that failed (decode errors)."""
    progress = progress or Quiet()
    todo = [a for a in assets if a.info is not None and a.status != "error"]
    if not todo:
        return []
    inputs = {a.id: (a, lib.catalog.scenes(a.id), load_motion(lib.catalog, a.id), transcript_of(lib, a.id))
              for a in todo}
    progress.start("enrich", len(todo))
    failed: list[tuple[str, str]] = []
    if use_ray:
        for inp, out in fan_out(lib.settings, [inputs[a.id] for a in todo], Enricher, retries=1,
                                workers=lib.settings.decode_concurrency, setup=(lib.settings.model_dump(mode="json"),)):
            if isinstance(out, str):
                failed.append((inp[0].path, out))
            else:
                store.save(lib.catalog, out)
            progress.advance(1, Path(inp[0].path).name)
    else:
        sources, skipped = make_sources(lib.settings)
        for a in todo:
            try:
                store.save(lib.catalog, enrich_one(sources, *inputs[a.id], frames=lib.settings.enrich_frames,
                                                   skipped=skipped))
            except DecodeError as e:
                failed.append((a.path, str(e)))
            progress.advance(1, Path(a.path).name)
    progress.finish()
    return failed


def ingest_stage(lib, run, done: list[str]) -> None:
    """The ingest stage (DAM_ENRICH_ON_INGEST; dam.ingest_run.AFTER_LEVELS): the assets just
    indexed, on a pool of Ray actors."""
    if lib.settings.enrich_on_ingest and done:
        for path, reason in enrich_assets(lib, lib.catalog.assets(ids=done), run.progress, use_ray=True):
            run.report.errors.append(ErrorRecord(path=path, reason=reason, stage="enrich"))


class Enricher:
    """One enrichment worker (an actor of dam.runtime.fanout's pool): its sources (face detector,
    CLIP when configured) load once and serve every asset the pool hands it. Storing stays with
    the caller, the catalog's one writer."""

    def __init__(self, settings: dict):
        self.settings = Settings(**settings)
        self.sources, self.skipped = make_sources(self.settings)

    def __call__(self, inputs: tuple) -> Enrichment | str:
        """`inputs`: the asset, its scenes, motion and transcript; a decode error comes back as text."""
        a, scenes, motion, transcript = inputs
        try:
            return enrich_one(self.sources, a, scenes, motion, transcript, self.settings.enrich_frames, self.skipped)
        except DecodeError as e:
            return str(e)
