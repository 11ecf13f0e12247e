"""Speech in the library: transcribe one file (the pure work is dam.audio.transcribe), store and
read transcripts (dam.audio.store, re-exported here), and the ingest stage: one Ray task per asset
with sound (dam.runtime.fanout), the driver storing each transcript. (Multi-camera sync fans out
from dam.audio.multicam, so the ingest path never imports SciPy for it.)"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from dam.audio.load import AudioError
from dam.audio.store import has_audio, store, transcript_of
from dam.audio.transcribe import TranscribeConfigError, Transcript, load_backend, transcribe
from dam.config import Settings
from dam.runtime.fanout import fan_out
from dam.schema import Asset, ErrorRecord


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


def ingest_stage(lib, run, done: list[str]) -> None:
    """The ingest stage (DAM_TRANSCRIBE_ON_INGEST; dam.ingest_run.AFTER_LEVELS): every asset of
    the run that did not fail, with sound."""
    if not lib.settings.transcribe_on_ingest:
        return
    assets = lib.catalog.assets(ids=[a.id for a in run.todo]) if run.todo else []
    for path, reason in transcribe_assets(lib, [a for a in assets if a.status != "error"], run.progress):
        run.report.errors.append(ErrorRecord(path=path, reason=reason, stage="speech"))


__all__ = ["ingest_stage", "store", "transcribe_assets", "transcribe_file", "transcript_of"]
