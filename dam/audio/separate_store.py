"""Stems in the library: WAV files under <data dir>/stems/<asset id>/ and one catalog row per
asset (table `stems`). The asset id is the content hash, so changed media gets new stems and a
re-run with the same method finds the old ones. The catalog owner calls these; nothing else writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dam.audio.separate import STEMS, SeparationError, Separator, Stems, load_separator, separate_file
from dam.catalog import Catalog, now
from dam.schema import Asset


def folder(root: Path, asset_id: str) -> Path:
    return root / "stems" / asset_id


def save(catalog: Catalog, asset_id: str, stems: Stems) -> None:
    with catalog.transaction() as db:
        db.execute("INSERT OR REPLACE INTO stems(asset_id, method, model, created_at, data) VALUES (?,?,?,?,?)",
                   (asset_id, stems.method, stems.model, now().isoformat(),
                    stems.model_dump_json(exclude={"reused", "seconds"})))


def load(catalog: Catalog, asset_id: str) -> Stems | None:
    rows = catalog._rows("SELECT data FROM stems WHERE asset_id = ?", (asset_id,))
    return Stems.model_validate_json(rows[0]["data"]) if rows else None


def summary(catalog: Catalog, asset_id: str) -> dict | None:
    """What `dam info` shows: the stems' files (and whether they are still there) and their method."""
    rows = catalog._rows("SELECT data, created_at FROM stems WHERE asset_id = ?", (asset_id,))
    if not rows:
        return None
    s = Stems.model_validate_json(rows[0]["data"])
    return {**s.model_dump(mode="json", exclude={"reused", "seconds", "path"}), "created_at": rows[0]["created_at"],
            "present": all(Path(getattr(s, k)).is_file() for k in STEMS)}


def _wanted(model: str | None) -> tuple[str, str | None]:
    """(method, model) the settings ask for, without loading a model."""
    return ("demucs", str(Path(model).expanduser())) if model else ("repet-sim", None)


def separate_asset(lib, asset: Asset, force: bool = False, separator: Separator | None = None,
                   on_progress: Callable[[float], None] | None = None) -> Stems:
    """The asset's stems: the stored ones when they were made by the configured method and are
    still on disk (unless `force`), else made now and recorded. Raises SeparationError (no
    audio, undecodable) or SeparationConfigError (the configured model)."""
    if not (asset.info and asset.info.audio):
        raise SeparationError(f"{asset.name}: no audio track")
    if not Path(asset.path).is_file():
        raise SeparationError(f"{asset.name}: the file is missing ({asset.path})")
    method, model = (separator.name, separator.model) if separator else _wanted(lib.settings.separation_model)
    known = load(lib.catalog, asset.id)
    if (known and not force and (known.method, known.model) == (method, model)
            and all(Path(getattr(known, k)).is_file() for k in STEMS)):
        return known.model_copy(update={"reused": True, "path": asset.path})
    sep = separator or load_separator(lib.settings.separation_model, lib.settings.separation_device)
    stems = separate_file(asset.path, folder(lib.settings.root, asset.id), sep, on_progress)
    save(lib.catalog, asset.id, stems)
    return stems


def resolve(lib, ref: str) -> Asset:
    """The asset a user names: a file (registered first when new or changed), or an asset id,
    id prefix or content hash. Raises FileNotFoundError, PathNotAllowed or SeparationError."""
    from dam.scan import register

    if Path(ref).is_file():
        reg = register(lib.catalog, lib.allowed(ref, implicit_root=True))
        if reg.asset is None:
            raise SeparationError(f"{Path(ref).name}: {reg.error or 'not a media file'}")
        return lib.catalog.asset(reg.asset)
    a = lib.asset(ref)
    if a is None:
        raise FileNotFoundError(f"no asset or file {ref!r}")
    return a
