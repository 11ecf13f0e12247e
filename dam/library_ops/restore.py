"""Bring a library back from a backup root written by `dam.library_ops.backup`.

Every copy is checked against the manifest's hash before it is used, so a damaged backup file
is reported, never restored. Originals go back to the paths the catalog records; one that
exists with other content is left alone and reported (a restore never overwrites media)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from pydantic import BaseModel, Field

from dam.config import Settings
from dam.library_ops.backup import (
    INFO,
    MANIFEST,
    BackupError,
    check_copy,
    copy_verified,
    locked,
    media_source,
    read_manifest,
)
from dam.media.hashing import content_hash
from dam.schema import ErrorRecord


class RestoreReport(BaseModel):
    source: str
    data_dir: str
    dry_run: bool = False
    restored: int = Field(0, description="Files written (with --dry-run: that would be written).")
    skipped: int = Field(0, description="Originals already in place with the same content.")
    failed: int = 0
    seconds: float = 0.0
    errors: list[ErrorRecord] = Field(default_factory=list)


def library_in_use(settings: Settings) -> bool:
    """True when the data dir already holds a catalog with assets (restore would replace it)."""
    path = settings.catalog_path
    if not path.exists():
        return False
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return db.execute("SELECT count(*) FROM assets").fetchone()[0] > 0
        finally:
            db.close()
    except sqlite3.Error:
        return True


def restore(settings: Settings, source: Path, originals: bool = True, dry_run: bool = False, force: bool = False,
            progress=None) -> RestoreReport:
    t0 = time.monotonic()
    source = Path(source).expanduser().resolve()
    if not (source / MANIFEST).exists():
        raise BackupError(f"{source} is not a dam backup (no {MANIFEST})")
    if library_in_use(settings) and not force:
        raise BackupError(f"{settings.root} already holds a library; restore into an empty data dir (or force)")
    report = RestoreReport(source=str(source), data_dir=str(settings.root), dry_run=dry_run)
    with locked(source):
        entries = read_manifest(source)
        todo = [e for e in entries.values() if e["rel"].startswith("data/") or (originals and e["rel"].startswith("media/"))]
        if progress:
            progress.start(f"restore from {source}", len(todo))
        for e in sorted(todo, key=lambda e: e["rel"]):
            _restore_one(settings, source, e, report, dry_run)
            if progress:
                progress.advance(1, Path(e["rel"]).name)
        if progress:
            progress.finish()
    if not dry_run:
        _rebase(settings, source)
    report.failed = len(report.errors)
    report.seconds = time.monotonic() - t0
    return report


def _rebase(settings: Settings, source: Path) -> None:
    """Point the catalog's thumbnail paths at the new data dir when the library moved."""
    try:
        old = json.loads((source / INFO).read_text())["data_dir"].rstrip("/") + "/"
    except (OSError, ValueError, KeyError):
        return
    new = str(settings.root).rstrip("/") + "/"
    if old == new or not settings.catalog_path.exists():
        return
    db = sqlite3.connect(settings.catalog_path)
    try:
        with db:
            for table, col in (("assets", "poster"), ("scenes", "thumbnail")):
                db.execute(f"UPDATE {table} SET {col} = ? || substr({col}, ?) WHERE substr({col}, 1, ?) = ?",
                           (new, len(old) + 1, len(old), old))
    finally:
        db.close()


def _restore_one(settings: Settings, source: Path, e: dict, report: RestoreReport, dry_run: bool) -> None:
    rel = e["rel"]
    if ".." in Path(rel).parts:
        report.errors.append(ErrorRecord(path=rel, reason="path with '..' in the manifest", stage="restore"))
        return
    if rel.startswith("data/"):
        target = settings.root / rel.removeprefix("data/")
        if settings.root not in target.resolve().parents:
            report.errors.append(ErrorRecord(path=rel, reason="path leaves the data dir", stage="restore"))
            return
    else:
        target = media_source(rel)
        try:
            if target.exists():
                same = content_hash(target) == e["hash"]
                if same:
                    report.skipped += 1
                else:
                    report.errors.append(ErrorRecord(path=str(target), stage="restore",
                                                     reason="exists with other content; left as is"))
                return
        except OSError as err:
            report.errors.append(ErrorRecord(path=str(target), reason=str(err), stage="restore"))
            return
    bad = check_copy(source, e)
    if bad:
        report.errors.append(ErrorRecord(path=rel, reason=f"backup copy damaged: {bad}", stage="restore"))
        return
    if dry_run:
        report.restored += 1
        return
    try:
        for stale in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
            stale.unlink(missing_ok=True)  # a WAL beside a replaced database would corrupt it
        copy_verified(source / rel, target)
    except (OSError, BackupError) as err:
        report.errors.append(ErrorRecord(path=str(target), reason=str(err), stage="restore"))
        return
    report.restored += 1
