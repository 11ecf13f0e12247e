"""Network shares (SMB/NAS) as sources: add, list and remove remotes; pull one into a media root.

A sync pulls new and changed media (and XMP sidecars) into the local root, then registers what it
pulled in the catalog as `dam scan` does (probe, content hash: the files are assets at once, a
renamed file the same asset), and with `ingest` indexes it too (`dam ingest`). Credentials come
from the environment or the keyring (dam.remote.smb), never from the catalog.

These take the settings and the catalog, not the Library: listing remotes, a refused login or a
sync that finds nothing new never pays for opening the vector store. `sync_remote` is handed a
function that opens the Library, called only when there is something to register."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from dam.errors import AuthFailed, Conflict, InvalidInput, NotConfigured, NotFound, Unavailable, UpstreamFailed
from dam.objectstore import MEDIA_SUFFIXES
from dam.paths import expand, inside_roots
from dam.remote import store
from dam.remote.smb import RemoteError, SmbShare, credentials, env_prefix, parse_url
from dam.remote.store import RemoteRow
from dam.remote.sync import SyncReport, sync

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def _typed(e: RemoteError, name: str):
    """RemoteError -> the dam.errors type the adapters know."""
    detail = f"remote {name!r}: {e}"
    match e.kind:
        case "auth":
            return AuthFailed(f"{detail}; check {env_prefix(name)}_USER and {env_prefix(name)}_PASSWORD",
                              title="login refused")
        case "config":
            return NotConfigured(str(e), code="no_credentials")
        case "unreachable":
            return Unavailable(detail, code="remote_unreachable")
        case "lost":
            return Unavailable(detail, code="remote_lost")
        case "busy":
            return Conflict(detail, code="sync_running")
        case "missing":
            return NotFound(detail, code="remote_path_missing")
        case _:
            return UpstreamFailed(detail, code=f"remote_{e.kind}")


def destination(settings, into: str | Path, implicit_root: bool) -> Path:
    """The local root a remote is pulled into: inside the media roots (PathNotAllowed otherwise;
    with no roots configured the CLI's folder is one, as for `dam ingest`), never inside the data dir."""
    roots = settings.resolved_roots()
    real = expand(into).resolve() if not roots and implicit_root else inside_roots(into, roots)
    data = settings.root
    if real == data or data in real.parents or real in data.parents:
        raise Conflict(f"{real} holds or is inside the data dir {data}: pull media into a media root",
                       code="sync_refused")
    return real


def add_remote(settings, catalog, name: str, url: str, into: str | None = None, implicit_root: bool = False) -> RemoteRow:
    if not _NAME.match(name):
        raise InvalidInput(f"{name!r}: a remote name is letters, digits, '-' and '_' (at most 64)", code="bad_remote_name")
    try:
        parsed = parse_url(url)
    except ValueError as e:
        raise InvalidInput(str(e), code="bad_remote_url") from None
    root = str(destination(settings, into, implicit_root)) if into else None
    if store.get(catalog, name) is not None:
        raise Conflict(f"a remote named {name!r} exists (dam remote remove {name} first)", code="remote_exists")
    return store.add(catalog, name, parsed.url, root)


def list_remotes(catalog) -> list[RemoteRow]:
    return store.all_remotes(catalog)


def remove_remote(catalog, name: str) -> RemoteRow:
    row = store.get(catalog, name)
    if row is None:
        raise NotFound(f"no remote named {name!r}", code="no_such_remote")
    store.remove(catalog, name)
    return row


def sync_remote(settings, catalog, open_library: Callable[[], object], name: str, into: str | None = None,
                delete: bool = False, ingest: bool = False, bwlimit_mb: float | None = None, progress=None,
                implicit_root: bool = False) -> SyncReport:
    """Pull the remote's new and changed media into its local root, then register (or ingest) it
    through the Library `open_library()` gives."""
    row = store.get(catalog, name)
    if row is None:
        raise NotFound(f"no remote named {name!r} (dam remote add {name} smb://host/share/folder)", code="no_such_remote")
    target = into or row.into
    if target is None:
        roots = settings.resolved_roots()
        if not roots:
            raise NotConfigured(f"say where to pull {name!r}: --into DIR, or configure DAM_MEDIA_ROOTS",
                                code="no_sync_root")
        target = roots[0] / name
    root = destination(settings, target, implicit_root)
    url = parse_url(row.url)
    try:
        user, password = credentials(name, url)
        share = SmbShare(url, user, password)
    except RemoteError as e:
        raise _typed(e, name) from None
    try:
        root.mkdir(parents=True, exist_ok=True)  # only once the share let us in
        report, changed = sync(share, catalog, name, url.url, root, delete, progress,
                               bwlimit_mb * 1e6 if bwlimit_mb else None)
    except RemoteError as e:
        raise _typed(e, name) from None
    finally:
        share.close()
    media = [str(p) for p in changed if p.exists() and p.suffix.lower() in MEDIA_SUFFIXES]
    if ingest and media:
        done = open_library().ingest(media, implicit_root=True, progress=progress)
        report.registered, report.ingest_job = done.indexed, done.job
    elif media or report.deleted:
        scanned = open_library().scan(root, implicit_root=True, progress=progress)
        report.registered = scanned.new + scanned.changed
    return report
