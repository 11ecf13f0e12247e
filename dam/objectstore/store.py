"""The `sources` table: per object URI, the size and mtime it had when staged, the local copy and
the asset it became (dam.objectstore). Reads through `Catalog.rows`, writes through
`Catalog.transaction`."""

from __future__ import annotations

import sqlite3

from dam.catalog import Catalog, now

# Part of the catalog's version 1 (dam.migrations): a change to this table is a new migration.
TABLES = """
CREATE TABLE IF NOT EXISTS sources (
    uri TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime REAL NOT NULL, asset_id TEXT, path TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
"""


def source(catalog: Catalog, uri: str) -> sqlite3.Row | None:
    rows = catalog.rows("SELECT * FROM sources WHERE uri = ?", (uri,))
    return rows[0] if rows else None


def put_source(catalog: Catalog, uri: str, size: int, mtime: float, asset_id: str | None, path: str) -> None:
    with catalog.transaction() as db:
        db.execute(
            "INSERT INTO sources(uri, size, mtime, asset_id, path, seen_at) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT(uri) DO UPDATE SET size=excluded.size, mtime=excluded.mtime, asset_id=excluded.asset_id, "
            "path=excluded.path, seen_at=excluded.seen_at", (uri, size, mtime, asset_id, path, now().isoformat()))


def linked(catalog: Catalog) -> list[sqlite3.Row]:
    """(uri, asset_id) of every object recorded as having become an asset."""
    return catalog.rows("SELECT uri, asset_id FROM sources WHERE asset_id IS NOT NULL")
