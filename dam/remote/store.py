"""The remotes dam pulls from (`remotes`: name, URL without any password, default local root)
and what each sync pulled (`remote_files`: per remote path, the size and mtime it had, where it
went, its content hash, and whether the copy is whole or a resumable `.part`). Migration 5."""

from __future__ import annotations

from pydantic import BaseModel

from dam.catalog import Catalog, now

TABLES = """
CREATE TABLE IF NOT EXISTS remotes (
    name TEXT PRIMARY KEY, url TEXT NOT NULL, into_root TEXT, added_at TEXT NOT NULL, synced_at TEXT
);
CREATE TABLE IF NOT EXISTS remote_files (
    remote TEXT NOT NULL, rel TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    local TEXT NOT NULL, content_hash TEXT, state TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (remote, rel)
);
"""


class RemoteRow(BaseModel):
    name: str
    url: str
    into: str | None = None
    added_at: str
    synced_at: str | None = None


class PulledRow(BaseModel):
    rel: str
    size: int
    mtime_ns: int
    local: str
    content_hash: str | None = None
    state: str  # 'done' | 'partial'


def add(catalog: Catalog, name: str, url: str, into: str | None) -> RemoteRow:
    with catalog.transaction() as db:
        db.execute("INSERT INTO remotes(name, url, into_root, added_at) VALUES (?,?,?,?)", (name, url, into, now().isoformat()))
    found = get(catalog, name)
    assert found is not None
    return found


def get(catalog: Catalog, name: str) -> RemoteRow | None:
    rows = catalog.rows("SELECT name, url, into_root AS 'into', added_at, synced_at FROM remotes WHERE name = ?", (name,))
    return RemoteRow(**dict(rows[0])) if rows else None


def all_remotes(catalog: Catalog) -> list[RemoteRow]:
    return [RemoteRow(**dict(r)) for r in
            catalog.rows("SELECT name, url, into_root AS 'into', added_at, synced_at FROM remotes ORDER BY name")]


def remove(catalog: Catalog, name: str) -> bool:
    with catalog.transaction() as db:
        gone = db.execute("DELETE FROM remotes WHERE name = ?", (name,)).rowcount
        db.execute("DELETE FROM remote_files WHERE remote = ?", (name,))
    return bool(gone)


def mark_synced(catalog: Catalog, name: str) -> None:
    with catalog.transaction() as db:
        db.execute("UPDATE remotes SET synced_at = ? WHERE name = ?", (now().isoformat(), name))


def pulled(catalog: Catalog, name: str) -> dict[str, PulledRow]:
    rows = catalog.rows("SELECT rel, size, mtime_ns, local, content_hash, state FROM remote_files WHERE remote = ?",
                        (name,))
    return {r["rel"]: PulledRow(**dict(r)) for r in rows}


def put(catalog: Catalog, name: str, row: PulledRow) -> None:
    with catalog.transaction() as db:
        db.execute("INSERT INTO remote_files(remote, rel, size, mtime_ns, local, content_hash, state, updated_at) "
                   "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(remote, rel) DO UPDATE SET size=excluded.size, "
                   "mtime_ns=excluded.mtime_ns, local=excluded.local, content_hash=excluded.content_hash, "
                   "state=excluded.state, updated_at=excluded.updated_at",
                   (name, row.rel, row.size, row.mtime_ns, row.local, row.content_hash, row.state, now().isoformat()))


def drop(catalog: Catalog, name: str, rel: str) -> None:
    with catalog.transaction() as db:
        db.execute("DELETE FROM remote_files WHERE remote = ? AND rel = ?", (name, rel))
