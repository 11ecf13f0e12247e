"""Multi-camera sync for the library: register the files, sync them on Ray, store each match as
an L3 `multicam` relation (clip -> reference, with offset, confidence, drift and group id)."""

from __future__ import annotations

from pathlib import Path

from dam.audio.group import SyncGroup
from dam.audio.load import AudioError, audio_duration
from dam.audio.stage import sync_files
from dam.media.sniff import looks_like_media
from dam.paths import PathNotAllowed, inside_roots, walk_files
from dam.scan import register
from dam.schema import Relation

KIND = "multicam"


def _has_audio(path: Path, roots: list[Path]) -> bool:
    try:
        if roots:
            inside_roots(path, roots)  # a symlink in a root may point outside it
        return looks_like_media(path) and audio_duration(path) > 0
    except (AudioError, PathNotAllowed, OSError):
        return False


def sync(lib, paths: list[str | Path], implicit_root: bool = False, reference: str | None = None
         ) -> tuple[SyncGroup, dict]:
    """Sync `paths` (files, or folders of them, inside the media roots); returns the group and
    its JSON timeline."""
    files, refused = [], {}
    for raw in paths:
        try:
            p = lib.allowed(raw, implicit_root)
        except PathNotAllowed as e:
            refused[str(raw)] = str(e)
            continue
        if p.is_file():
            files.append(str(p))
        elif p.is_dir():  # a camera folder: every media file in it that has sound
            files += [str(f) for f in sorted(walk_files(p)) if _has_audio(f, lib.settings.resolved_roots())]
        else:
            refused[str(raw)] = "no such file"
    ref = str(lib.allowed(reference, implicit_root)) if reference else None
    if ref and ref not in files:
        files.insert(0, ref)
    group, durations = sync_files(lib.settings, files, ref)
    group.errors.update(refused)
    ids = {}
    for f in files:
        r = register(lib.catalog, Path(f))
        if r.asset:
            ids[f] = r.asset
    ref_id = ids.get(group.reference)
    for res in group.results:
        cid = ids.get(res.clip)
        if cid is None or ref_id is None or cid == ref_id:
            continue
        rel = [] if not res.matched else [Relation(
            kind=KIND, asset_id=cid, other_id=ref_id, score=res.confidence,
            detail={"group": group.group, "offset": res.offset, "drift_ppm": res.drift_ppm, "psr": res.psr,
                    "peak_ratio": res.peak_ratio, "error_ms": res.error_ms, "overlap": res.overlap})]
        lib.catalog.replace_relations(cid, rel, kinds=(KIND,))
    timeline = group.timeline(durations)
    for c in timeline["clips"]:
        c["asset_id"] = ids.get(c["path"])
    return group, timeline
