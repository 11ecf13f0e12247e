"""Multi-camera sync on Ray: one task per clip against the reference, so a folder of N cameras
runs on every core (or node) at once. The pure work is dam.audio.sync.sync_pair."""

from __future__ import annotations

import time
from functools import partial

from dam.audio.group import SyncGroup, group_id
from dam.audio.load import AudioError, audio_duration
from dam.audio.sync import SyncResult, sync_pair
from dam.config import Settings
from dam.runtime.fanout import fan_out


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
