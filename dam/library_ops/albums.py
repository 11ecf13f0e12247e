"""Albums (the seed's `sync_album`); their tables, and ratings / pick-reject flags, are in store.py.

An album mirrors the media under one folder: its members live in the catalog, and the album is
materialised as a folder `<data>/albums/<category>/<album>/` of hard links (symlinks across
drives) or verified copies, keeping the sub-folder layout of the source so names never clash.
Re-syncing adds what appeared and removes what went; the folder is dam's, the media is not."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from dam.catalog import Catalog
from dam.library_ops import store
from dam.library_ops.backup import BackupError, copy_verified
from dam.schema import ErrorRecord

Mode = Literal["link", "copy"]
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
    album_id = store.album_id(catalog, spec.category, spec.album, str(root), spec.mode)
    folder = album_folder(albums_dir, spec.category, spec.album)
    report = AlbumReport(album_id=album_id, album=spec.album, category=spec.category, folder=str(folder))
    members = {Path(r["path"]).relative_to(root).as_posix(): (r["asset_id"], Path(r["path"]))
               for r in catalog.files_under(str(root)) if r["asset_id"]}
    known = store.members(catalog, album_id)
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
    store.set_members(catalog, album_id, {rel: aid for rel, (aid, _) in members.items()}, str(root), spec.mode)
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


def album_assets(catalog: Catalog, ref: str) -> list[str]:
    """Asset ids of an album named by id, `name` or `category/name`."""
    rows = store.named(catalog, ref)
    if not rows:
        raise KeyError(f"no album {ref!r}")
    if len(rows) > 1:  # one name in several categories
        raise KeyError(f"album {ref!r} is ambiguous: say which, e.g. "
                       + " or ".join(repr(f"{r['category']}/{r['name']}") for r in rows[:3]))
    return store.member_ids(catalog, rows[0]["id"])
