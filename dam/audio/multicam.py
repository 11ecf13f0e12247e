"""Multi-camera sync for the library: register the files, sync them on Ray (one task per clip
against the reference, dam.runtime.fanout, so a folder of N cameras runs on every core or node
at once), store each match as an L3 `multicam` relation (clip -> reference, with offset,
confidence, drift and group id). The pure work is dam.audio.sync.sync_pair."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

from dam.audio.group import SyncGroup, group_id
from dam.audio.load import AudioError, audio_duration
from dam.audio.store import MULTICAM
from dam.audio.sync import SyncResult, sync_pair
from dam.config import Settings
from dam.media.sniff import looks_like_media
from dam.paths import PathNotAllowed, inside_roots, walk_files
from dam.runtime.fanout import fan_out
from dam.scan import register
from dam.schema import Relation


def _has_audio(path: Path, roots: list[Path]) -> bool:
    try:
        if roots:
            inside_roots(path, roots)  # a symlink in a root may point outside it
        return looks_like_media(path) and audio_duration(path) > 0
    except (AudioError, PathNotAllowed, OSError):
        return False


def _pair(reference: str, min_confidence: float, clip: str) -> dict:
    try:
        return sync_pair(reference, clip, min_confidence).model_dump()
    except AudioError as e:
        return {"clip": clip, "reference": reference, "matched": False, "reason": f"error: {e}"}


def pick_reference(paths: list[str]) -> tuple[str | None, dict[str, float], dict[str, str]]:
    """The longest recording (most likely to overlap every other), the durations, and the files
    whose audio cannot be read."""
    durations, errors = {}, {}
    for p in paths:
        try:
            durations[p] = audio_duration(p)
        except AudioError as e:
            errors[p] = str(e)
    ref = max(durations, key=lambda p: durations[p]) if durations else None
    return ref, durations, errors


def sync_files(settings: Settings, paths: list[str], reference: str | None = None) -> tuple[SyncGroup, dict]:
    """Every file against `reference` (default: the longest) in parallel Ray tasks."""
    t0 = time.perf_counter()
    paths = list(dict.fromkeys(paths))
    best, durations, errors = pick_reference(paths)
    reference = reference or best
    if reference is None or reference in errors:
        raise AudioError(errors.get(reference or "", "no file with readable audio"))
    clips = [p for p in paths if p != reference and p not in errors]
    done = dict(fan_out(settings, clips, partial(_pair, reference, settings.sync_min_confidence), retries=1))
    results = [SyncResult(**done[c]) for c in clips]
    group = SyncGroup(group=group_id(paths), reference=reference, results=results, errors=errors,
                      seconds=round(time.perf_counter() - t0, 3))
    return group, durations


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
            kind=MULTICAM, asset_id=cid, other_id=ref_id, score=res.confidence,
            detail={"group": group.group, "offset": res.offset, "drift_ppm": res.drift_ppm, "psr": res.psr,
                    "peak_ratio": res.peak_ratio, "error_ms": res.error_ms, "overlap": res.overlap})]
        lib.catalog.replace_relations(cid, rel, kinds=(MULTICAM,))
    timeline = group.timeline(durations)
    for c in timeline["clips"]:
        c["asset_id"] = ids.get(c["path"])
    return group, timeline
