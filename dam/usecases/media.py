"""Work on one file or one shoot: transcribe speech, analyse motion, sync cameras by audio."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from dam.audio.group import SyncGroup
from dam.audio.load import AudioError
from dam.audio.multicam import sync
from dam.audio.speech import transcribe_file
from dam.audio.store import store
from dam.audio.transcribe import TranscribeConfigError, Transcript
from dam.errors import NotConfigured, NotFound, Unreadable
from dam.media.decode import DecodeError
from dam.motion.model import MotionParams, MotionTimeline
from dam.scan import register


class Transcribed(BaseModel):
    asset_id: str | None
    transcript: Transcript


def transcribe(lib, path: str | Path, implicit_root: bool = False) -> Transcribed:
    """Speech to text of one file inside the roots, stored with its asset (registered if new)."""
    p = lib.allowed(path, implicit_root)
    if not p.is_file():
        raise NotFound(f"no such file: {path}")
    reg = register(lib.catalog, p)
    try:
        tr = transcribe_file(lib.settings, str(p))
    except TranscribeConfigError as e:
        raise NotConfigured(str(e)) from None
    except AudioError as e:
        raise Unreadable(str(e)) from None
    if reg.asset:
        store(lib, reg.asset, tr)
    return Transcribed(asset_id=reg.asset, transcript=tr)


class MotionResult(BaseModel):
    asset_id: str | None
    timeline: MotionTimeline


def analyse_motion(lib, path: str | Path, overrides: dict | None = None, implicit_root: bool = False) -> MotionResult:
    """One file's motion timeline with the settings' parameters (`overrides` replace some), stored."""
    params = MotionParams.from_settings(lib.settings, **(overrides or {}))
    try:
        asset_id, tl = lib.motion(path, params, implicit_root=implicit_root)
    except FileNotFoundError as e:
        raise NotFound(str(e)) from None
    except DecodeError as e:
        raise Unreadable(f"{path}: {e}") from None
    return MotionResult(asset_id=asset_id, timeline=tl)


class Synced(BaseModel):
    group: SyncGroup
    timeline: dict


def sync_shoot(lib, paths: list[str], reference: str | None = None, implicit_root: bool = False) -> Synced:
    """Clips of one event lined up by their audio, stored as multicam relations."""
    try:
        group, timeline = sync(lib, paths, implicit_root=implicit_root, reference=reference)
    except AudioError as e:
        raise Unreadable(str(e)) from None
    return Synced(group=group, timeline=timeline)
