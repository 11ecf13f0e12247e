"""Walk media roots into the catalog. Unchanged files (same size and mtime) cost one stat, so a
re-scan of a big library takes seconds; new or changed files are sniffed, hashed and probed."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from dam.catalog import Catalog
from dam.media.hashing import asset_id, content_hash, stat_key
from dam.media.probe import ProbeError, probe
from dam.media.sniff import looks_like_media
from dam.paths import PathNotAllowed, inside_roots, walk_files
from dam.schema import ErrorRecord, ScanReport


class Registered:
    """What registering one file found: its asset id, and whether the asset needs indexing."""

    def __init__(self, path: Path, asset: str | None, status: str, error: str | None = None,
                 previous: str | None = None):
        self.path, self.asset, self.status, self.error, self.previous = path, asset, status, error, previous


def register(catalog: Catalog, path: Path) -> Registered:
    """Bring one file's row up to date. status: unchanged | new | changed | skipped | error."""
    key = str(path)
    try:
        size, mtime = stat_key(path)
    except OSError as e:
        return Registered(path, None, "error", f"cannot stat: {e.strerror}")
    known = catalog.file(key)
    if known is not None and known["size"] == size and known["mtime"] == mtime:
        if known["asset_id"] is None:
            # The same answer as the first time, so an ingest after a scan still reports the file.
            return Registered(path, None, "skipped" if not known["error"] else "error",
                              known["error"] or "not a media file (content not recognised)")
        a = catalog.asset(known["asset_id"])
        if a is not None and a.status != "missing":
            if a.path != key:  # another copy: make sure the one the asset names is still there
                catalog.follow_copies(a.id)
            return Registered(path, known["asset_id"], "unchanged")
    if size == 0:
        return _reject(catalog, path, size, mtime, "empty file (0 bytes)")
    if not looks_like_media(path):
        catalog.put_file(key, size, mtime, None, None)
        return Registered(path, None, "skipped", "not a media file (content not recognised)")
    try:
        digest = content_hash(path)
        info = probe(path)
    except (OSError, ProbeError) as e:
        return _reject(catalog, path, size, mtime, f"unreadable media: {e}")
    except Exception as e:  # whatever a parser raises on hostile bytes is this file's error, not the batch's
        return _reject(catalog, path, size, mtime, f"unreadable media: {type(e).__name__}: {str(e)[:200]}")
    aid = asset_id(digest)
    previous = known["asset_id"] if known is not None else None
    existing = catalog.asset(aid)
    catalog.upsert_asset(aid, digest, key, size, mtime, info)
    if existing is not None and existing.status == "missing":
        catalog.set_asset(aid, status="indexed" if existing.indexed_at else "new")
    catalog.put_file(key, size, mtime, aid, info.kind)
    status = "new" if known is None else ("changed" if previous != aid else "unchanged")
    if previous and previous != aid and (catalog.orphaned(previous) or catalog.follow_copies(previous, key) is None):
        catalog.set_asset(previous, status="missing")
    return Registered(path, aid, status, previous=previous if previous != aid else None)


def _reject(catalog: Catalog, path: Path, size: int, mtime: float, reason: str) -> Registered:
    catalog.put_file(str(path), size, mtime, None, None, error=reason)
    return Registered(path, None, "error", reason)


def scan(catalog: Catalog, root: Path, on_file: Callable[[Registered], None] | None = None,
         roots: list[Path] | None = None) -> ScanReport:
    """Register every media file under root; mark files that disappeared. A missing root is an
    error, never a reason to forget the library (it may be an unplugged drive). With `roots`,
    a file reached through a symlink that leaves them is reported, not read."""
    t0 = time.monotonic()
    root = Path(root).resolve()
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a folder (unplugged drive?)")
    report = ScanReport(root=str(root))
    seen: set[str] = set()
    for path in walk_files(root):
        seen.add(str(path))
        if roots:
            try:
                inside_roots(path, roots)
            except PathNotAllowed as e:
                report.errors.append(ErrorRecord(path=str(path), reason=str(e), stage="paths"))
                continue
        r = register(catalog, path)
        report.seen += 1
        if r.status == "error":
            report.errors.append(ErrorRecord(path=str(path), reason=r.error or "error", stage="scan"))
        elif r.status in ("new", "changed", "unchanged", "skipped"):
            setattr(report, r.status, getattr(report, r.status) + 1)
        if on_file:
            on_file(r)
    for row in catalog.files_under(str(root)):
        if row["path"] not in seen:
            catalog.forget_file(row["path"])
            report.removed += 1
            if row["asset_id"] and (catalog.orphaned(row["asset_id"]) or catalog.follow_copies(row["asset_id"]) is None):
                catalog.set_asset(row["asset_id"], status="missing")  # no copy left anywhere
    report.seconds = time.monotonic() - t0
    catalog.record_scan(str(root), report.model_dump_json())
    return report
