"""Audio's Ray stages, each fanned out over files by dam.runtime.fanout: speech to text as an
ingest stage (one task per asset with sound; the driver stores), and multi-camera sync (one task
per clip against the reference, so a folder of N cameras runs on every core or node at once).
The pure work is dam.audio.transcribe and dam.audio.sync.sync_pair."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

from dam.audio.group import SyncGroup, group_id
from dam.audio.load import AudioError, audio_duration
from dam.audio.store import has_audio, store
from dam.audio.sync import SyncResult, sync_pair
from dam.audio.transcribe import TranscribeConfigError, Transcript, load_backend, transcribe
from dam.config import Settings
from dam.runtime.fanout import fan_out
from dam.schema import Asset


def transcribe_file(settings: Settings, path: str) -> Transcript:
    """The pure work for one file with the configured backend (raises TranscribeConfigError/AudioError)."""
    backend = load_backend(settings.stt_backend, settings.whisper_model, settings.stt_language)
    return transcribe(path, backend, settings.section_pause)


def transcribe_assets(lib, assets: list[Asset], progress) -> list[tuple[str, str]]:
    """The ingest stage: every asset with an audio stream, one Ray task each; the driver writes.
    Assets without audio cost nothing. Returns (path, reason) of the ones that failed."""
    todo = [a for a in assets if has_audio(a)]
    if not todo:
        return []
    progress.start("speech to text", len(todo))
    failed = []
    for a, out in fan_out(lib.settings, todo, partial(_task, lib.settings.model_dump(mode="json"))):
        if isinstance(out, str):
            failed.append((a.path, out))
        else:
            store(lib, a.id, Transcript.model_validate(out))
        progress.advance(1, Path(a.path).name)
    progress.finish()
    return failed


def _task(settings: dict, a: Asset) -> dict | str:
    try:
        return transcribe_file(Settings(**settings), a.path).model_dump()
    except (AudioError, TranscribeConfigError) as e:
        return str(e)


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
