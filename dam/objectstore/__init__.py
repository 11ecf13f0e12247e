"""Media in object stores (`s3://bucket/prefix`, `gs://...`, any pyarrow.fs URI) for backfills.

Why stage a local copy: decoders seek all over a file, and a video is hashed whole to find its
asset; both want a file on disk. So each object is streamed (fixed-size chunks: memory stays flat
whatever the file size) into a cache folder, then indexed like any local file, by content.

Why remember the source: a resubmitted backfill must not download terabytes again to find out
they are done. The catalog's `sources` table (store.py) keeps, per object URI, the size and mtime it had and
the asset it became; an object whose size and mtime are unchanged and whose asset is indexed is
skipped without a byte read. The cache folder must be on storage every node can read (as media
roots are): decode actors open the staged copy."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from dam.objectstore.store import put_source, source
from dam.schema import ErrorRecord

CHUNK = 8 << 20
MEDIA_SUFFIXES = frozenset(
    ".mp4 .mov .m4v .mkv .avi .mts .m2ts .mxf .webm .wmv .mpg .mpeg .ts .3gp .flv .dv .r3d .braw "
    ".jpg .jpeg .png .heic .heif .tif .tiff .webp .dng .cr2 .cr3 .nef .arw "
    ".wav .mp3 .m4a .aac .flac .aif .aiff .ogg".split())


def is_uri(root: str) -> bool:
    scheme = urlparse(str(root)).scheme
    return len(scheme) > 1 and "://" in str(root)  # not a Windows drive letter


@dataclass
class RemoteFile:
    uri: str  # scheme://bucket/key, without query parameters (the identity of the object)
    path: str  # the path inside its filesystem
    size: int
    mtime: float


def open_uri(uri: str):
    """(filesystem, path) for a URI; query parameters configure the filesystem (endpoint, region)."""
    from pyarrow import fs

    return fs.FileSystem.from_uri(uri)


def list_media(uri: str) -> tuple[object, list[RemoteFile]]:
    from pyarrow import fs

    filesystem, base = open_uri(uri)
    scheme = urlparse(uri).scheme
    info = filesystem.get_file_info(base)
    if info.type == fs.FileType.File:
        infos = [info]
    elif info.type == fs.FileType.Directory:
        infos = filesystem.get_file_info(fs.FileSelector(base, recursive=True))
    else:
        raise FileNotFoundError(f"{uri}: no such object or prefix")
    out = []
    for i in sorted(infos, key=lambda i: i.path):
        name = PurePosixPath(i.path).name
        if i.type != fs.FileType.File or name.startswith(".") or PurePosixPath(name).suffix.lower() not in MEDIA_SUFFIXES:
            continue
        mtime = i.mtime.timestamp() if i.mtime is not None else 0.0
        out.append(RemoteFile(uri=f"{scheme}://{i.path}", path=i.path, size=int(i.size or 0), mtime=mtime))
    return filesystem, out


def cache_path(cache: Path, uri: str) -> Path:
    """One stable place per object, keeping its name (extensions matter to probing and to users)."""
    return cache / hashlib.sha1(uri.encode()).hexdigest()[:16] / PurePosixPath(urlparse(uri).path).name


def download(filesystem, f: RemoteFile, dest: Path) -> Path:
    """Streamed copy into dest (atomically renamed into place), given the object's mtime."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part")
    with filesystem.open_input_stream(f.path) as src, open(tmp, "wb") as out:
        while chunk := src.read(CHUNK):
            out.write(chunk)
    if tmp.stat().st_size != f.size:
        tmp.unlink(missing_ok=True)
        raise OSError(f"{f.uri}: got {tmp.stat().st_size if tmp.exists() else 'no'} bytes of {f.size}")
    os.utime(tmp, (f.mtime, f.mtime))
    os.replace(tmp, dest)
    return dest


class ObjectSync:
    """Stage a backfill's object-store roots: skip what is done, download the rest."""

    def __init__(self, lib, uris: list[str]):
        self.lib, self.uris = lib, uris
        self.staged: list[tuple[RemoteFile, Path]] = []
        self.downloaded = 0

    def stage(self, progress) -> tuple[list[Path], list[dict], list[ErrorRecord]]:
        """(local copies to ingest, report entries of skipped objects, errors)."""
        cat, cache = self.lib.catalog, self.lib.settings.object_cache
        skipped: list[dict] = []
        errors: list[ErrorRecord] = []
        listed: list[tuple[object, RemoteFile]] = []
        for uri in self.uris:
            try:
                filesystem, files = list_media(uri)
                listed += [(filesystem, f) for f in files]
            except (OSError, ValueError) as e:
                errors.append(ErrorRecord(path=uri, reason=f"cannot list: {e}", stage="objects"))
        progress.start("staging objects", len(listed))
        for filesystem, f in listed:
            known = source(cat, f.uri)
            same = known is not None and known["size"] == f.size and known["mtime"] == f.mtime
            asset = cat.asset(known["asset_id"]) if same and known["asset_id"] else None
            if asset is not None and asset.status == "indexed" and asset.encoder == self.lib.key:
                skipped.append({"uuid": asset.id, "path": f.uri, "kind": asset.kind})
                progress.advance(1, f"{f.uri} (unchanged)")
                continue
            dest = cache_path(cache, f.uri)
            try:
                if not (same and _matches(dest, f)):  # a copy staged by a run that stopped is kept
                    download(filesystem, f, dest)
                    self.downloaded += 1
                put_source(cat, f.uri, f.size, f.mtime, None, str(dest))
                self.staged.append((f, dest))
            except OSError as e:
                errors.append(ErrorRecord(path=f.uri, reason=f"cannot download: {e}", stage="objects"))
            progress.advance(1, f.uri)
        progress.finish()
        return [d for _, d in self.staged], skipped, errors

    def link(self) -> None:
        """After the ingest: remember which asset each staged object became."""
        for f, dest in self.staged:
            row = self.lib.catalog.file(str(dest))
            if row is not None and row["asset_id"]:
                put_source(self.lib.catalog, f.uri, f.size, f.mtime, row["asset_id"], str(dest))


def _matches(path: Path, f: RemoteFile) -> bool:
    try:
        st = path.stat()
    except OSError:
        return False
    return st.st_size == f.size and st.st_mtime == f.mtime
