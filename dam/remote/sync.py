"""Pull a share's media into a local root: new and changed files, resumably, verified.

Each copy is written to `<name>.part` beside its final place, fsynced, then checked (its size
against the share's, the share's size and mtime unchanged since the copy began, and its content
hash read back from the disk against the hash of the bytes as they arrived) and renamed into
place with the share's modification time, so a half or damaged file never carries a media name. An interrupted copy
leaves its `.part`, and `remote_files` remembers the size and mtime of the file it belongs to: the
next run continues from the `.part`'s length when the file on the share is unchanged, after
comparing the last MiB before that offset with the share's bytes (a `.part` that does not match
starts over). The content hash (dam.media.hashing, dam's asset identity) of every copy is stored,
so a file renamed on the share (same size and mtime, gone from its old path) is linked locally
under its new name instead of being pulled again, and stays the same asset with its ratings and
albums. XMP sidecars travel like media. SMB extended attributes become `user.*` xattrs where
the local file system has them (best effort, counted), and the share's creation time becomes
`user.dam.created` (Linux cannot set a birth time), the asset's date when its content names
none. Nothing local is deleted because it went from the share unless `delete` is set, and then
only a copy that is still as it was pulled."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from dam.catalog import Catalog
from dam.media.hashing import content_hash
from dam.media.probe import CREATED_XATTR
from dam.objectstore import MEDIA_SUFFIXES
from dam.remote import store
from dam.remote.smb import RemoteEntry, RemoteError

CHUNK = 1 << 20
OVERLAP = 1 << 20  # bytes re-read before a resume offset to check the .part belongs to this file
SIDECARS = frozenset({".xmp"})

Status = Literal["pulled", "resumed", "unchanged", "renamed", "deleted", "kept", "conflict", "failed"]


class SyncItem(BaseModel):
    path: str  # below the remote folder, '/'-separated
    status: Status
    size: int = 0
    detail: str = ""


class SyncReport(BaseModel):
    remote: str
    url: str
    into: str
    pulled: int = 0
    resumed: int = 0
    unchanged: int = 0
    renamed: int = 0
    deleted: int = 0
    kept: int = 0  # gone from the share, kept here (no --delete)
    conflict: int = 0  # a different local file where the share's would go: left alone, not pulled
    failed: int = 0
    bytes_pulled: int = 0
    xattrs: int = 0  # extended attributes copied
    seconds: float = 0.0
    items: list[SyncItem] = Field(default_factory=list, description="Every file but the unchanged ones.")
    registered: int = 0  # files the catalog took in after the pull (scan or ingest)
    ingest_job: str | None = None

    def add(self, item: SyncItem) -> None:
        setattr(self, item.status, getattr(self, item.status) + 1)
        if item.status != "unchanged":
            self.items.append(item)


class Share(Protocol):
    def walk(self, keep: Callable[[str], bool]) -> Iterator[RemoteEntry]: ...
    def stat(self, rel: str) -> RemoteEntry: ...
    def read(self, rel: str, offset: int, chunk: int) -> Iterator[bytes]: ...
    def read_range(self, rel: str, offset: int, length: int) -> bytes: ...
    def xattrs(self, rel: str) -> dict[str, bytes]: ...


def wanted(name: str) -> bool:
    suffix = PurePosixPath(name).suffix.lower()
    return suffix in MEDIA_SUFFIXES or suffix in SIDECARS


def local_path(into: Path, rel: str) -> Path:
    parts = rel.split("/")
    if any(p in ("", ".", "..") or "\x00" in p for p in parts):
        raise RemoteError("failed", f"{rel!r}: not a usable local name")
    return into.joinpath(*parts)


def _feed(h, path: Path, length: int) -> None:
    with path.open("rb") as f:
        while length > 0 and (data := f.read(min(CHUNK, length))):
            h.update(data)
            length -= len(data)


def _same(p: Path, e: RemoteEntry) -> bool:
    try:
        st = p.stat()
    except OSError:
        return False
    return st.st_size == e.size and st.st_mtime_ns == e.mtime_ns


class Puller:
    def __init__(self, share: Share, catalog: Catalog, name: str, into: Path, progress, bwlimit: float | None = None):
        self.share, self.catalog, self.name, self.into = share, catalog, name, into
        self.progress, self.bwlimit = progress, bwlimit  # bwlimit: bytes per second
        self.used: set[str] = set()  # old names already matched to a renamed file
        self.xattrs = 0
        self.transferred = 0  # bytes read from the share (a resumed file counts only its rest)

    def run(self, report: SyncReport, delete: bool) -> list[Path]:
        """Sync; returns the local files written or linked (for the catalog to take in)."""
        t0 = time.monotonic()
        listing = list(self.share.walk(wanted))
        known = store.pulled(self.catalog, self.name)
        present = {e.rel for e in listing}
        gone = {rel: row for rel, row in known.items() if rel not in present and row.state == "done"}
        changed: list[Path] = []
        self.progress.start(f"syncing {report.url}", sum(e.size for e in listing) / 1e6, unit="MB")
        for e in listing:
            try:
                item, path = self.one(e, known.get(e.rel), gone)
            except RemoteError as err:
                if err.kind in ("lost", "unreachable", "auth"):
                    self.progress.finish()
                    part = local_path(self.into, e.rel).with_name(PurePosixPath(e.rel).name + ".part")
                    kept = f"; {part} ({part.stat().st_size:,} of {e.size:,} bytes) is kept" if part.exists() else ""
                    raise RemoteError(err.kind, f"{err} (while pulling {e.rel}{kept}; {report.pulled + report.resumed} "
                                                f"file(s) pulled before it; run the same command again to resume)") from None
                item, path = SyncItem(path=e.rel, status="failed", size=e.size, detail=str(err)), None
            except OSError as err:  # the local side: disk full, permissions
                item, path = SyncItem(path=e.rel, status="failed", size=e.size, detail=f"local: {err}"), None
            report.add(item)
            if path is not None and item.status != "unchanged":
                changed.append(path)
            if item.status not in ("pulled", "resumed", "renamed"):
                self.progress.advance(e.size / 1e6, e.rel)
        for rel, row in sorted(gone.items()):
            report.add(self.vanished(rel, row, delete))
        self.progress.finish()
        report.bytes_pulled = self.transferred
        report.seconds = round(time.monotonic() - t0, 3)
        return changed

    def one(self, e: RemoteEntry, row: store.PulledRow | None, gone: dict[str, store.PulledRow]):
        dest = local_path(self.into, e.rel)
        if _same(dest, e):
            if row is None or row.state != "done" or row.size != e.size or row.mtime_ns != e.mtime_ns:
                self.remember(e, dest, None)
            return SyncItem(path=e.rel, status="unchanged", size=e.size), dest
        if not dest.exists() and (old := self.renamed_from(e, gone)) is not None:
            return self.relink(e, dest, old, gone), dest
        if dest.exists() and (why := self.not_ours(dest, row)):
            return SyncItem(path=e.rel, status="conflict", size=e.size, detail=why), None
        return self.pull(e, dest, row), dest

    @staticmethod
    def not_ours(dest: Path, row: store.PulledRow | None) -> str:
        """Why the local file must not be overwritten ('' when it is the copy a sync left there)."""
        if row is None:
            return "a different file of this name is here, not pulled by dam: kept; move it away to pull the share's"
        if row.state == "done" and not (dest.stat().st_size == row.size and dest.stat().st_mtime_ns == row.mtime_ns):
            return "changed here and on the share since the last sync: the local copy is kept; move it away to pull the share's"
        return ""

    def renamed_from(self, e: RemoteEntry, gone: dict[str, store.PulledRow]) -> str | None:
        """A file that left the share with this size and mtime, whose copy here is intact."""
        for rel, row in gone.items():
            if rel not in self.used and row.size == e.size and row.mtime_ns == e.mtime_ns and \
                    PurePosixPath(rel).suffix.lower() == PurePosixPath(e.rel).suffix.lower() and \
                    _same(Path(row.local), e):
                return rel
        return None

    def relink(self, e: RemoteEntry, dest: Path, old_rel: str, gone: dict[str, store.PulledRow]) -> SyncItem:
        old = gone[old_rel]
        self.used.add(old_rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(old.local, dest)
        except OSError:
            import shutil

            shutil.copy2(old.local, dest)
        os.utime(dest, ns=(e.mtime_ns, e.mtime_ns))
        keep_created(e, dest)
        self.remember(e, dest, old.content_hash)
        # the old name is gone from the share: it stays here unless --delete (then vanished() removes it)
        self.progress.advance(e.size / 1e6, f"{e.rel} (renamed)")
        return SyncItem(path=e.rel, status="renamed", size=e.size, detail=f"renamed from {old_rel} on the share")

    def pull(self, e: RemoteEntry, dest: Path, row: store.PulledRow | None) -> SyncItem:
        part = dest.with_name(dest.name + ".part")
        dest.parent.mkdir(parents=True, exist_ok=True)
        offset = 0
        if part.exists():
            have = part.stat().st_size
            same_file = row is not None and row.state == "partial" and row.size == e.size and row.mtime_ns == e.mtime_ns
            if same_file and 0 < have <= e.size and self.overlap_ok(e, part, have):
                offset = have
            else:
                part.unlink()
        self.store_row(e, dest, None, "partial")
        received = hashlib.blake2b(digest_size=16)  # dam's content hash, of the bytes as they arrive
        if offset:
            self.progress.advance(offset / 1e6, f"{e.rel} (resuming at byte {offset:,})")
            _feed(received, part, offset)
        self.copy(e, part, offset, received)
        got = part.stat().st_size
        if got != e.size:
            raise RemoteError("failed", f"{got} bytes arrived of {e.size}; run again to resume")
        now = self.share.stat(e.rel)
        if (now.size, now.mtime_ns) != (e.size, e.mtime_ns):
            part.unlink()
            raise RemoteError("failed", "the file changed on the share while it was copied; run again")
        digest = content_hash(part)  # read back from the disk
        if digest != received.hexdigest():
            part.unlink()
            raise RemoteError("failed", "the copy read back from the local disk differs from the bytes received "
                                        "(a disk or memory error?): removed; run again")
        os.utime(part, ns=(e.mtime_ns, e.mtime_ns))
        keep_created(e, part)
        os.replace(part, dest)
        self.store_row(e, dest, digest, "done")
        self.xattrs += self.copy_xattrs(e, dest)
        detail = f"resumed at byte {offset:,}" if offset else ""
        return SyncItem(path=e.rel, status="resumed" if offset else "pulled", size=e.size, detail=detail)

    def overlap_ok(self, e: RemoteEntry, part: Path, have: int) -> bool:
        start = max(0, have - OVERLAP)
        with part.open("rb") as f:
            f.seek(start)
            mine = f.read(have - start)
        return self.share.read_range(e.rel, start, have - start) == mine

    def copy(self, e: RemoteEntry, part: Path, offset: int, received) -> None:
        t0, sent = time.monotonic(), 0
        with part.open("ab" if offset else "wb") as f:
            for data in self.share.read(e.rel, offset, CHUNK):
                f.write(data)
                f.flush()  # what arrived survives the connection dropping
                received.update(data)
                sent += len(data)
                self.transferred += len(data)
                self.progress.advance(len(data) / 1e6, e.rel)
                if self.bwlimit:
                    ahead = sent / self.bwlimit - (time.monotonic() - t0)
                    if ahead > 0:
                        time.sleep(ahead)
            os.fsync(f.fileno())  # on disk before it is read back and renamed into place

    def copy_xattrs(self, e: RemoteEntry, dest: Path) -> int:
        if not hasattr(os, "setxattr"):
            return 0
        n = 0
        for raw, value in self.share.xattrs(e.rel).items():
            key = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            try:
                os.setxattr(dest, key if key.startswith("user.") else f"user.{key}", value)
                n += 1
            except OSError:  # the local file system has no user xattrs: best effort
                break
        return n

    def store_row(self, e: RemoteEntry, dest: Path, digest: str | None, state: str) -> None:
        store.put(self.catalog, self.name, store.PulledRow(rel=e.rel, size=e.size, mtime_ns=e.mtime_ns,
                                                           local=str(dest), content_hash=digest, state=state))

    def remember(self, e: RemoteEntry, dest: Path, digest: str | None) -> None:
        self.store_row(e, dest, digest or content_hash(dest), "done")

    def vanished(self, rel: str, row: store.PulledRow, delete: bool) -> SyncItem:
        local = Path(row.local)
        if not delete:
            return SyncItem(path=rel, status="kept", size=row.size, detail="gone from the share; kept here (--delete removes it)")
        if local.exists() and not (local.stat().st_size == row.size and local.stat().st_mtime_ns == row.mtime_ns):
            store.drop(self.catalog, self.name, rel)
            return SyncItem(path=rel, status="kept", size=row.size, detail="gone from the share, but changed here since it was pulled: kept")
        local.unlink(missing_ok=True)
        store.drop(self.catalog, self.name, rel)
        return SyncItem(path=rel, status="deleted", size=row.size, detail="gone from the share")


def sync(share: Share, catalog: Catalog, name: str, url: str, into: Path, delete: bool = False,
         progress=None, bwlimit: float | None = None) -> tuple[SyncReport, list[Path]]:
    from dam.progress import Quiet

    report = SyncReport(remote=name, url=url, into=str(into))
    puller = Puller(share, catalog, name, into, progress or Quiet(), bwlimit)
    with _exclusive(into / f".dam-sync-{name}.lock", name):
        changed = puller.run(report, delete)
    report.xattrs = puller.xattrs
    store.mark_synced(catalog, name)
    return report, changed


@contextmanager
def _exclusive(lock: Path, name: str):
    """One sync of a remote into a root at a time (two would write the same .part files)."""
    import fcntl

    with lock.open("a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RemoteError("busy", f"another sync of {name!r} into {lock.parent} is running") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def keep_created(e: RemoteEntry, path: Path) -> None:
    """The share's creation time on the copy, where the local file system takes user xattrs
    (the probe reads it back for a file whose content names no date)."""
    if e.ctime_ns and hasattr(os, "setxattr"):
        created = datetime.fromtimestamp(e.ctime_ns / 1e9, timezone.utc).isoformat()
        try:
            os.setxattr(path, CREATED_XATTR, created.encode())
        except OSError:  # no user xattrs here: the copy keeps its mtime only
            pass
