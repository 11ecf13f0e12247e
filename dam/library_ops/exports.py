"""`dam export FORMAT`: one entry point over every outward format, for the CLI, HTTP and workflows.

Transcripts and motion are optional plain inputs keyed by asset id — lists of
(start, end, text) — so whichever module produces them can feed every format; left out, they
come from what the catalog holds (dam.library_ops.stored)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, Field

from dam.files import write_atomic
from dam.library_ops import timeline as tl
from dam.library_ops.albums import album_assets
from dam.library_ops.blender import BlenderClip, write_blender
from dam.library_ops.describe import AssetMetadata, describe_asset
from dam.library_ops.stock import stock_csv
from dam.library_ops.stored import (
    motion_intervals,
    motion_tracks,
    sync_offsets,
    transcript_sections,
    transcript_segments,
)
from dam.library_ops.timeline import Reel
from dam.library_ops.xmp import write_sidecar
from dam.schema import Asset, ErrorRecord

Timed = dict[str, list[tuple[float, float, str]]]
FORMATS = ("xmp", "adobe-stock", "shutterstock", "pond5", "otio", "edl", "fcpxml", "srt", "vtt", "blender")
TIMELINES = ("otio", "edl", "fcpxml", "srt", "vtt")


class ExportReport(BaseModel):
    format: str
    folder: str
    assets: int = 0
    files: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    errors: list[ErrorRecord] = Field(default_factory=list)


def unique_stem(a: Asset, taken: set[str]) -> str:
    """The file's stem, made safe as a file name; the asset id is added when two would clash."""
    stem = re.sub(r"[\x00-\x1f\x7f/\\]", "_", Path(a.path).stem).lstrip(".") or a.id
    if stem in taken:
        stem = f"{stem}-{a.id[:8]}"
    taken.add(stem)
    return stem


def select(lib, refs: list[str] | None = None, album: str | None = None) -> list[Asset]:
    """Assets named by id/path, or an album's, or every asset with no selection; KeyError names a miss."""
    if album:
        ids = album_assets(lib.catalog, album)
        found = {a.id: a for a in lib.catalog.assets(ids=ids, limit=100_000)}
        return [found[i] for i in ids if i in found]
    if refs:
        out = []
        for r in refs:
            a = lib.asset(r)
            if a is None:
                raise KeyError(f"no asset {r!r}")
            out.append(a)
        return out
    return sorted(lib.catalog.assets(limit=100_000), key=lambda a: a.path)


def export(lib, fmt: str, assets: list[Asset], out: Path, transcripts: Timed | None = None,
           motion: Timed | None = None, offsets: dict[str, float] | None = None,
           tracks: dict[str, dict[str, list[tuple[float, float, float]]]] | None = None) -> ExportReport:
    """offsets (asset id -> seconds, e.g. a multi-cam group's sync offsets) and tracks (asset id ->
    track name -> (seconds, x, y) samples) are used by the blender format."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (one of: {', '.join(FORMATS)})")
    out = Path(out)
    report = ExportReport(format=fmt, folder=str(out), assets=len(assets))
    if fmt in TIMELINES:
        return _timeline(lib, fmt, assets, out, transcripts, motion, report)
    if fmt == "blender":
        return _blender(lib, assets, out, offsets, tracks, report)
    metas: list[AssetMetadata] = []
    for a in assets:
        try:
            metas.append(describe_asset(lib, a, (transcripts or {}).get(a.id), (motion or {}).get(a.id)))
        except Exception as e:  # one asset's trouble never stops the export
            report.errors.append(ErrorRecord(path=a.path, reason=f"{type(e).__name__}: {e}", stage="export"))
    if fmt == "xmp":
        taken: set[str] = set()
        by_id = {a.id: a for a in assets}
        for m in metas:
            path = out / f"{unique_stem(by_id[m.asset_id], taken)}.xmp"
            try:
                report.files.append(str(write_sidecar(m, path)))
            except OSError as e:
                report.errors.append(ErrorRecord(path=m.path, reason=str(e), stage="export"))
    else:
        text, warnings = stock_csv(fmt, metas)
        report.warnings += warnings
        report.files.append(str(write_atomic(out / f"{fmt}.csv", text)))
    return report


def reel_of(lib, a: Asset, transcript=None, motion=None):
    """An asset as a timeline reel: its shots (or the whole clip when it has no scenes yet), with
    transcript sections and motion as markers (from the catalog unless given)."""
    info = a.info
    duration = (info.duration if info else None) or 0.0
    fps = (info.video.fps if info and info.video else None) or 25.0
    shots = [(s.start, s.end) for s in lib.catalog.scenes(a.id)] or [(0.0, duration)]
    return Reel(path=a.path, fps=fps, duration=max(duration, shots[-1][1]), shots=shots,
                transcript=transcript_sections(lib, a.id) if transcript is None else list(transcript),
                motion=motion_intervals(lib, a.id) if motion is None else list(motion))


def _timeline(lib, fmt: str, assets: list[Asset], out: Path, transcripts: Timed | None, motion: Timed | None,
              report: ExportReport) -> ExportReport:
    reels = []
    for a in assets:
        if a.kind != "video" or not (a.info and a.info.duration):
            report.warnings.append(f"{a.name}: not a video with a duration; left out of the timeline")
            continue
        said = (transcripts or {}).get(a.id)
        if said is None and fmt in ("srt", "vtt"):  # subtitles carry the words said, not section titles
            said = transcript_segments(lib, a.id)
        reels.append(reel_of(lib, a, said, (motion or {}).get(a.id)))
    if not reels:
        report.errors.append(ErrorRecord(path="*", reason="no video to put on a timeline", stage="export"))
        return report
    name = Path(reels[0].path).stem if len(reels) == 1 else "dam shots"
    if fmt in ("srt", "vtt"):
        items = tl.cues(reels)
        text = tl.srt(items) if fmt == "srt" else tl.vtt(items)
    else:
        text = tl.write(tl.build(reels, name), fmt)
    suffix = {"otio": "otio", "edl": "edl", "fcpxml": "fcpxml", "srt": "srt", "vtt": "vtt"}[fmt]
    report.files.append(str(write_atomic(out / f"{name}.{suffix}", text)))
    return report


def _blender(lib, assets: list[Asset], out: Path, offsets: dict[str, float] | None, tracks: dict | None,
             report: ExportReport) -> ExportReport:
    """Offsets default to the stored sync offsets, tracks to the stored motion tracks."""
    offsets = sync_offsets(lib, [a.id for a in assets]) if offsets is None else offsets

    clips = []
    for a in assets:
        v = a.info.video if a.info else None
        if a.kind != "video" or v is None or not a.info.duration:
            report.warnings.append(f"{a.name}: not a video; left out of the Blender scene")
            continue
        clips.append(BlenderClip(path=a.path, name=a.name, offset=offsets.get(a.id, 0.0), duration=a.info.duration,
                                 fps=v.fps or 25.0, width=v.width, height=v.height,
                                 cuts=[s.start for s in lib.catalog.scenes(a.id)],
                                 motion=motion_tracks(lib, a.id) if tracks is None else tracks.get(a.id, {})))
    if not clips:
        report.errors.append(ErrorRecord(path="*", reason="no video for a Blender scene", stage="export"))
        return report
    report.files += [str(p) for p in write_blender(clips, out)]
    return report
