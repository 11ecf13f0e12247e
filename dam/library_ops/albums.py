"""Albums (the seed's `sync_album`) and ratings / pick-reject flags.

An album mirrors the media under one folder: its members live in the catalog, and the album is
materialised as a folder `<data>/albums/<category>/<album>/` of hard links (symlinks across
drives) or verified copies, keeping the sub-folder layout of the source so names never clash.
Re-syncing adds what appeared and removes what went; the folder is dam's, the media is not."""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from dam.catalog import Catalog, now
from dam.library_ops.backup import BackupError, copy_verified
from dam.schema import ErrorRecord

Mode = Literal["link", "copy"]
Flag = Literal["pick", "reject"]
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def check_name(value: str) -> str:
    """An album or category name is one folder name: no separators, no dot-names."""
    value = value.strip()
    if value in ("", ".", "..") or _BAD_NAME.search(value) or value.startswith(".") or len(value) > 200:
        raise ValueError(f"{value!r} is not a usable album/category name (one folder name, no '/', not hidden)")
    return value


class AlbumSpec(BaseModel):
    """The seed's sync_album arguments."""

    root: str = Field(min_length=1, max_length=4096, description="Folder whose media the album mirrors.")
    album: str
    category: str = ""
    mode: Mode = Field("link", description="link: hard links (symlinks across drives); copy: verified copies.")

    @field_validator("album")
    @classmethod
    def _album(cls, v: str) -> str:
        return check_name(v)

    @field_validator("category")
    @classmethod
    def _category(cls, v: str) -> str:
        return check_name(v) if v.strip() else ""


class AlbumReport(BaseModel):
    album_id: str
    album: str
    category: str
    folder: str
    members: int = 0
    added: int = 0
    removed: int = 0
    seconds: float = 0.0
    errors: list[ErrorRecord] = Field(default_factory=list)


def album_folder(albums_dir: Path, category: str, album: str) -> Path:
    return albums_dir / category / album if category else albums_dir / album


def sync_album(catalog: Catalog, albums_dir: Path, spec: AlbumSpec, root: Path, progress=None) -> AlbumReport:
    """Make the album hold exactly the catalogued media under root (scan root first)."""
    t0 = time.monotonic()
    album_id = _album_id(catalog, spec, root)
    folder = album_folder(albums_dir, spec.category, spec.album)
    report = AlbumReport(album_id=album_id, album=spec.album, category=spec.category, folder=str(folder))
    members = {Path(r["path"]).relative_to(root).as_posix(): (r["asset_id"], Path(r["path"]))
               for r in catalog.files_under(str(root)) if r["asset_id"]}
    known = {r["rel"]: r["asset_id"] for r in catalog.rows("SELECT rel, asset_id FROM album_assets WHERE album_id = ?",
                                                             (album_id,))}
    if progress:
        progress.start(f"album {spec.album}", len(members))
    folder.mkdir(parents=True, exist_ok=True)
    for rel, (aid, src) in sorted(members.items()):
        target = folder / rel
        try:
            if known.get(rel) != aid or not os.path.lexists(target):
                _materialise(src, target, spec.mode)
                report.added += rel not in known or known[rel] != aid
        except (OSError, BackupError) as e:
            report.errors.append(ErrorRecord(path=str(src), reason=str(e), stage="album"))
            members.pop(rel)
        if progress:
            progress.advance(1, src.name)
    for rel in set(known) - set(members):
        (folder / rel).unlink(missing_ok=True)
        report.removed += 1
    _prune_empty(folder)
    with catalog.transaction() as db:
        db.execute("DELETE FROM album_assets WHERE album_id = ?", (album_id,))
        db.executemany("INSERT INTO album_assets(album_id, asset_id, rel, added_at) VALUES (?,?,?,?)",
                       [(album_id, aid, rel, now().isoformat()) for rel, (aid, _) in members.items()])
        db.execute("UPDATE albums SET synced_at = ?, root = ?, mode = ? WHERE id = ?",
                   (now().isoformat(), str(root), spec.mode, album_id))
    if progress:
        progress.finish()
    report.members = len(members)
    report.seconds = time.monotonic() - t0
    return report


def mirror_album(lib, spec: AlbumSpec, implicit_root: bool = False, progress=None, scan_progress=None) -> AlbumReport:
    """The seed's sync_album, for the CLI, HTTP and workflows alike: the root must be inside the
    media roots (PathNotAllowed otherwise), is scanned, and the album made to mirror it."""
    root = lib.allowed(spec.root, implicit_root)
    lib.scan(root, implicit_root=implicit_root, progress=scan_progress)
    return sync_album(lib.catalog, lib.settings.albums_dir, spec, root, progress)


def _album_id(catalog: Catalog, spec: AlbumSpec, root: Path) -> str:
    rows = catalog.rows("SELECT id FROM albums WHERE category = ? AND name = ?", (spec.category, spec.album))
    if rows:
        return rows[0]["id"]
    album_id = uuid.uuid4().hex[:12]
    with catalog.transaction() as db:
        db.execute("INSERT INTO albums(id, name, category, root, mode, created_at) VALUES (?,?,?,?,?,?)",
                   (album_id, spec.album, spec.category, str(root), spec.mode, now().isoformat()))
    return album_id


def _materialise(src: Path, target: Path, mode: Mode) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if os.path.lexists(target):
        target.unlink()
    if mode == "copy":
        copy_verified(src, target)
        return
    try:
        os.link(src, target)
    except OSError:  # another drive, or a filesystem without hard links
        os.symlink(src, target)


def _prune_empty(folder: Path) -> None:
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir() and not p.is_symlink()), reverse=True):
        try:
            sub.rmdir()
        except OSError:
            pass


def albums(catalog: Catalog) -> list[dict]:
    rows = catalog.rows(
        "SELECT a.*, (SELECT count(*) FROM album_assets m WHERE m.album_id = a.id) AS members FROM albums a"
        " ORDER BY category, name")
    return [dict(r) for r in rows]


def album_assets(catalog: Catalog, ref: str) -> list[str]:
    """Asset ids of an album named by id, `name` or `category/name`."""
    category, slash, name = ref.rpartition("/")
    rows = catalog.rows("SELECT id, category, name FROM albums WHERE id = ?1 OR (name = ?2 AND (category = ?3 OR ?4))",
                         (ref, name, category, not slash))
    if not rows:
        raise KeyError(f"no album {ref!r}")
    if len(rows) > 1:  # one name in several categories
        raise KeyError(f"album {ref!r} is ambiguous: say which, e.g. "
                       + " or ".join(repr(f"{r['category']}/{r['name']}") for r in rows[:3]))
    return [r["asset_id"] for r in catalog.rows("SELECT DISTINCT asset_id FROM album_assets WHERE album_id = ? "
                                                  "ORDER BY rel", (rows[0]["id"],))]


# --- ratings and flags -------------------------------------------------------------------------


class Rating(BaseModel):
    asset_id: str
    rating: int | None = Field(None, ge=0, le=5, description="Stars, 0–5.")
    flag: Flag | None = None


def set_rating(catalog: Catalog, asset_id: str, rating: int | None = None, flag: Flag | None | Literal[""] = None,
               ) -> Rating:
    """Set stars and/or the pick/reject flag; `flag=""` clears the flag, None leaves it."""
    current = rating_of(catalog, asset_id)
    new = Rating(asset_id=asset_id, rating=current.rating if rating is None else rating,
                 flag=current.flag if flag is None else (flag or None))
    with catalog.transaction() as db:
        db.execute("INSERT INTO ratings(asset_id, rating, flag, updated_at) VALUES (?,?,?,?) ON CONFLICT(asset_id)"
                   " DO UPDATE SET rating=excluded.rating, flag=excluded.flag, updated_at=excluded.updated_at",
                   (asset_id, new.rating, new.flag, now().isoformat()))
    return new


def rating_of(catalog: Catalog, asset_id: str) -> Rating:
    rows = catalog.rows("SELECT rating, flag FROM ratings WHERE asset_id = ?", (asset_id,))
    return Rating(asset_id=asset_id, **dict(rows[0])) if rows else Rating(asset_id=asset_id)
