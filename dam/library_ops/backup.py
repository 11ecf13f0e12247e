"""Incremental, verified, resumable backup of a library: originals, catalog and derived data.

Layout of a backup root:
    manifest.jsonl   one JSON line per finished file (appended as each lands, so an interrupted
                     run resumes where it stopped); the last line for a path wins
    media/<absolute path of the original>
    data/<path under the data dir>   catalog, Chroma, thumbnails and every other derived file

Each file is copied to a hidden temporary name, fsynced, given the source's timestamps and
mode (shutil.copystat), read back and hashed, and only then renamed into place. SQLite files
(the catalog, Chroma's) are copied with SQLite's online backup API, never as live bytes."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from dam.catalog import Catalog
from dam.config import Settings
from dam.files import write_atomic
from dam.media.hashing import content_hash
from dam.schema import ErrorRecord

MANIFEST = "manifest.jsonl"
INFO = "backup.json"
_SKIP_SUFFIXES = ("-wal", "-shm", "-journal", ".lock", ".dam-part")
_SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupReport(BaseModel):
    root: str
    job: str | None = None
    dry_run: bool = False
    copied: int = Field(0, description="Files copied (with --dry-run: that would be copied).")
    skipped: int = Field(0, description="Files already in the backup, unchanged.")
    failed: int = 0
    bytes_copied: int = 0
    seconds: float = 0.0
    errors: list[ErrorRecord] = Field(default_factory=list)
    planned: list[str] = Field(default_factory=list, description="--dry-run: the files that would be copied.")


class VerifyReport(BaseModel):
    root: str
    checked: int = 0
    errors: list[ErrorRecord] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Item:
    source: Path
    rel: str  # path inside the backup root
    sqlite: bool = False


class BackupError(RuntimeError):
    pass


# --- the manifest --------------------------------------------------------------------------


def read_manifest(root: Path) -> dict[str, dict]:
    """rel -> {hash, size, mtime, source}; lines written by a crashed run may be torn: ignored."""
    entries: dict[str, dict] = {}
    path = root / MANIFEST
    if not path.exists():
        return entries
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                e = json.loads(line)
            except json.JSONDecodeError:
                continue
            if e.get("drop"):
                entries.pop(e["rel"], None)
            elif "rel" in e and "hash" in e:
                entries[e["rel"]] = e
    return entries


class Manifest:
    """The append-only log of finished files; compacted to one line per file at the end."""

    def __init__(self, root: Path):
        self.root = root
        self.entries = read_manifest(root)
        self._f = open(root / MANIFEST, "a", encoding="utf-8")

    def add(self, entry: dict) -> None:
        self.entries[entry["rel"]] = entry
        self._write(entry)

    def drop(self, rel: str) -> None:
        self.entries.pop(rel, None)
        self._write({"rel": rel, "drop": True})

    def _write(self, entry: dict) -> None:
        self._f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._f.flush()

    def close(self, compact: bool = True) -> None:
        os.fsync(self._f.fileno())
        self._f.close()
        if compact:
            tmp = self.root / f".{MANIFEST}.dam-part"
            with open(tmp, "w", encoding="utf-8") as f:
                for e in sorted(self.entries.values(), key=lambda e: e["rel"]):
                    f.write(json.dumps(e, ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.root / MANIFEST)


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """One backup or restore per backup root at a time."""
    with open(root / ".dam-backup.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"{root} is in use by another backup or restore") from None
        yield


# --- what a library consists of --------------------------------------------------------------


def media_rel(path: str) -> str:
    return "media/" + str(Path(path).resolve()).lstrip("/")


def media_source(rel: str) -> Path:
    return Path("/" + rel.removeprefix("media/"))


def is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(16) == _SQLITE_MAGIC
    except OSError:
        return False


def library_items(settings: Settings, catalog: Catalog) -> list[Item]:
    """Every original the catalog knows (files with an asset), then every file of the data dir."""
    items = [Item(Path(r["path"]), media_rel(r["path"]))
             for r in catalog.rows("SELECT path FROM files WHERE asset_id IS NOT NULL ORDER BY path")]
    data = settings.root
    for folder, dirs, files in os.walk(data):
        if Path(folder) == data and "albums" in dirs:
            dirs.remove("albums")  # links to originals, rebuilt from the catalog by sync_album
        dirs.sort()
        for name in sorted(files):
            p = Path(folder) / name
            if name.endswith(_SKIP_SUFFIXES) or not p.is_file():
                continue
            items.append(Item(p, "data/" + p.relative_to(data).as_posix(), sqlite=is_sqlite(p)))
    return items


# --- copying one file ----------------------------------------------------------------------


def _part(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.dam-part")


def copy_verified(src: Path, dest: Path) -> tuple[str, int]:
    """Copy src to dest via a temporary name; the copy is read back and must hash the same.
    Returns (hash, size). Raises BackupError when the copy is not exact or the source moved."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = _part(dest)
    before = os.stat(src)
    try:
        h = hashlib.blake2b(digest_size=16)  # the source is hashed as it is read: one pass
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            while chunk := fin.read(4 << 20):
                h.update(chunk)
                fout.write(chunk)
            fout.flush()
            os.fsync(fout.fileno())
            if hasattr(os, "posix_fadvise"):  # read the copy back from the disk, not the page cache
                os.posix_fadvise(fout.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        after = os.stat(src)
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            raise BackupError("the file changed while it was being copied; run the backup again")
        shutil.copystat(src, tmp)
        want, got = h.hexdigest(), content_hash(tmp)
        if want != got:
            raise BackupError(f"the copy does not read back the same (hash {got} != {want})")
        os.replace(tmp, dest)
        return want, before.st_size
    finally:
        tmp.unlink(missing_ok=True)


def snapshot_sqlite(src: Path, dest: Path) -> tuple[str, int]:
    """A consistent copy of a live SQLite database (the online backup API), written atomically."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = _part(dest)
    tmp.unlink(missing_ok=True)
    try:
        source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
        target = sqlite3.connect(tmp)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # the copy stands alone: no -wal beside it
        finally:
            target.close()
            source.close()
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        digest = content_hash(tmp)
        size = tmp.stat().st_size
        os.replace(tmp, dest)
        return digest, size
    except sqlite3.Error as e:
        raise BackupError(f"cannot snapshot SQLite database: {e}") from None
    finally:
        tmp.unlink(missing_ok=True)


# --- backup, verify ------------------------------------------------------------------------


def backup(settings: Settings, catalog: Catalog, dest: Path, dry_run: bool = False, progress=None,
           job: str | None = None) -> BackupReport:
    """Bring the backup at dest up to date. Files whose source size and mtime match the manifest
    and whose copy is present are skipped; everything else is copied and verified."""
    t0 = time.monotonic()
    dest = Path(dest).expanduser().resolve()
    if dest == settings.root or settings.root in dest.parents:
        raise BackupError(f"the backup root {dest} must not be inside the data dir {settings.root}")
    report = BackupReport(root=str(dest), dry_run=dry_run, job=job)
    items = library_items(settings, catalog)
    if dry_run:
        known = read_manifest(dest) if dest.is_dir() else {}
        for it in items:
            if _unchanged(it, known.get(it.rel), dest):
                report.skipped += 1
            else:
                report.copied += 1
                report.planned.append(it.rel)
        report.seconds = time.monotonic() - t0
        return report
    dest.mkdir(parents=True, exist_ok=True)
    with locked(dest):
        # Where the data dir was: the catalog holds absolute paths of thumbnails under it.
        write_atomic(dest / INFO, json.dumps({"data_dir": str(settings.root), "at": time.time()}))
        manifest = Manifest(dest)
        if progress:
            progress.start(f"backup to {dest}", len(items))
        # Copies run on a few threads (hashing and file I/O release the GIL); the manifest, the
        # counters and the progress are touched only here, as each copy lands.
        pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="backup")
        try:
            futures = {pool.submit(_copy_one, it, dest, manifest.entries.get(it.rel)): it for it in items}
            for fut in as_completed(futures):
                it = futures[fut]
                outcome, entry, error = fut.result()
                if error:
                    report.errors.append(ErrorRecord(path=str(it.source), reason=error, stage="backup"))
                elif outcome == "copied":
                    manifest.add(entry)
                    report.copied += 1
                    report.bytes_copied += entry["size"]
                else:
                    report.skipped += 1
                if progress:
                    progress.advance(1, it.source.name)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # an interrupted run leaves no copy half-done
            manifest.close()
            if progress:
                progress.finish()
    report.failed = len(report.errors)
    report.seconds = time.monotonic() - t0
    return report


def _unchanged(it: Item, known: dict | None, dest: Path) -> bool:
    if known is None or it.sqlite:
        return False
    try:
        st = os.stat(it.source)
        copy = os.stat(dest / it.rel)
    except OSError:
        return False
    return known["size"] == st.st_size == copy.st_size and known["mtime"] == st.st_mtime


def _copy_one(it: Item, dest: Path, known: dict | None) -> tuple[str, dict | None, str | None]:
    """("skipped" | "copied", manifest entry, error reason) for one file; touches nothing shared."""
    if _unchanged(it, known, dest):
        return "skipped", None, None
    target = dest / it.rel
    try:
        if it.sqlite:
            # A snapshot each run; it counts as copied only when its content changed.
            snap = target.with_name(f".{target.name}.snapshot")
            digest, size = snapshot_sqlite(it.source, snap)
            if known and known["hash"] == digest and target.exists():
                snap.unlink()
                return "skipped", None, None
            os.replace(snap, target)
        else:
            digest, size = copy_verified(it.source, target)
        mtime = os.stat(it.source).st_mtime
    except (OSError, BackupError) as e:
        return "failed", None, e.strerror if isinstance(e, OSError) and e.strerror else str(e)
    return "copied", {"rel": it.rel, "hash": digest, "size": size, "mtime": mtime, "source": str(it.source)}, None


def verify(dest: Path, repair: bool = True) -> VerifyReport:
    """Re-hash every file the manifest lists. A missing or altered copy is reported and, with
    repair, dropped from the manifest so the next backup copies it again."""
    dest = Path(dest).expanduser().resolve()
    report = VerifyReport(root=str(dest))
    if not (dest / MANIFEST).exists():
        raise BackupError(f"{dest} is not a dam backup (no {MANIFEST})")
    with locked(dest):
        manifest = Manifest(dest)
        try:
            for rel, e in sorted(manifest.entries.items()):
                report.checked += 1
                reason = check_copy(dest, e)
                if reason:
                    report.errors.append(ErrorRecord(path=rel, reason=reason, stage="verify"))
                    if repair:
                        manifest.drop(rel)
        finally:
            manifest.close()
    return report


def check_copy(dest: Path, entry: dict) -> str | None:
    """Why the copy of a manifest entry cannot be trusted, or None."""
    path = dest / entry["rel"]
    try:
        if path.stat().st_size != entry["size"]:
            return f"size {path.stat().st_size} != {entry['size']} recorded at backup"
        got = content_hash(path)
    except OSError as e:
        return f"missing or unreadable copy: {e.strerror}"
    return None if got == entry["hash"] else f"content hash {got} != {entry['hash']} recorded at backup"
