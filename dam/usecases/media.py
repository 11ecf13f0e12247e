"""Work on one file or one shoot: transcribe speech, analyse motion, sync cameras by audio."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from dam.audio.group import SyncGroup
from dam.audio.load import AudioError
from dam.audio.multicam import sync
from dam.audio.separate import STEMS, SeparationConfigError, SeparationError, Separator, Stems, separate_file
from dam.audio.separate_model import load_separator
from dam.audio.speech import transcribe_file
from dam.audio.store import save_stems, stems_folder, stems_of, store
from dam.audio.transcribe import TranscribeConfigError, Transcript
from dam.errors import NotConfigured, NotFound, Unreadable
from dam.media.decode import DecodeError
from dam.motion.model import MotionParams, MotionTimeline
from dam.motion.store import load as load_motion
from dam.scan import register
from dam.schema import Asset


class Transcribed(BaseModel):
    asset_id: str | None
    transcript: Transcript


def transcribe(lib, path: str | Path, implicit_root: bool = False, dialogue: bool = False) -> Transcribed:
    """Speech to text of one file inside the roots, stored with its asset (registered if new).
    `dialogue`: of its dialogue stem (made if needed), which is as long as the file, so the word
    times hold for the file."""
    p = lib.allowed(path, implicit_root)
    if not p.is_file():
        raise NotFound(f"no such file: {path}")
    reg = register(lib.catalog, p)
    try:
        source = str(p)
        if dialogue:
            if reg.asset is None:
                raise SeparationError(f"{p.name}: {reg.error or 'not a media file'}")
            source = _separate(lib, lib.catalog.asset(reg.asset), False, None, None).dialogue
        tr = transcribe_file(lib.settings, source).model_copy(update={"path": str(p)})
    except (TranscribeConfigError, SeparationConfigError) as e:
        raise NotConfigured(str(e)) from None
    except (AudioError, SeparationError) as e:
        raise Unreadable(str(e)) from None
    if reg.asset:
        store(lib, reg.asset, tr)
    return Transcribed(asset_id=reg.asset, transcript=tr)


def media_asset(lib, ref: str) -> Asset:
    """The asset a user names for work on its media: a file (registered first when new or
    changed), or an asset id, id prefix or content hash."""
    if Path(ref).is_file():
        reg = register(lib.catalog, lib.allowed(ref, implicit_root=True))
        if reg.asset is None:
            raise Unreadable(f"{Path(ref).name}: {reg.error or 'not a media file'}")
        return lib.catalog.asset(reg.asset)
    a = lib.asset(ref)
    if a is None:
        raise NotFound(f"no asset or file {ref!r}")
    return a


def separate(lib, asset: Asset, force: bool = False, on_progress: Callable[[float], None] | None = None,
             separator: Separator | None = None) -> Stems:
    """The asset's dialogue and music/effects stems: the stored ones when they were made by the
    configured method and are still on disk (unless `force`), else made now and recorded."""
    try:
        return _separate(lib, asset, force, on_progress, separator)
    except SeparationConfigError as e:
        raise NotConfigured(str(e)) from None
    except SeparationError as e:
        raise Unreadable(str(e)) from None


def _separate(lib, asset: Asset, force: bool, on_progress, separator: Separator | None) -> Stems:
    if not (asset.info and asset.info.audio):
        raise SeparationError(f"{asset.name}: no audio track")
    if not Path(asset.path).is_file():
        raise SeparationError(f"{asset.name}: the file is missing ({asset.path})")
    model = lib.settings.separation_model
    method, model = ((separator.name, separator.model) if separator
                     else ("demucs", str(Path(model).expanduser())) if model else ("repet-sim", None))
    known = stems_of(lib.catalog, asset.id)
    if (known and not force and (known.method, known.model) == (method, model)
            and all(Path(getattr(known, k)).is_file() for k in STEMS)):
        return known.model_copy(update={"reused": True, "path": asset.path})
    sep = separator or load_separator(lib.settings.separation_model, lib.settings.separation_device)
    stems = separate_file(asset.path, stems_folder(lib.settings.root, asset.id), sep, on_progress)
    save_stems(lib.catalog, asset.id, stems)
    return stems


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


def stored_motion(lib, asset_id: str) -> MotionTimeline | None:
    """The motion timeline stored with an asset, None when it was never analysed."""
    return load_motion(lib.catalog, asset_id)


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
