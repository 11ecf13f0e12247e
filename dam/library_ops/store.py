"""The tables of albums and ratings: `albums`, `album_assets` (an album's members, by their path
relative to its root) and `ratings` (stars and the pick/reject flag). Reads through
`Catalog.rows`, writes through `Catalog.transaction`; dam.library_ops.albums materialises the
albums as folders, the use cases (dam.usecases.assets) rate."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from dam.catalog import Catalog, now

# Part of the catalog's version 1 (dam.migrations): a change to these tables is a new migration.
TABLES = """
CREATE TABLE IF NOT EXISTS albums (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL DEFAULT '', root TEXT, mode TEXT,
    created_at TEXT NOT NULL, synced_at TEXT, UNIQUE (category, name)
);
CREATE TABLE IF NOT EXISTS album_assets (
    album_id TEXT NOT NULL, asset_id TEXT NOT NULL, rel TEXT NOT NULL, added_at TEXT NOT NULL,
    PRIMARY KEY (album_id, rel)
);
CREATE INDEX IF NOT EXISTS album_assets_asset ON album_assets(asset_id);
CREATE TABLE IF NOT EXISTS ratings (
    asset_id TEXT PRIMARY KEY, rating INTEGER, flag TEXT, updated_at TEXT NOT NULL
);
"""

Flag = Literal["pick", "reject"]

# --- albums ------------------------------------------------------------------------------------


def album_id(catalog: Catalog, category: str, name: str, root: str, mode: str) -> str:
    """The album's id, the album made first when there is none of that category and name."""
    rows = catalog.rows("SELECT id FROM albums WHERE category = ? AND name = ?", (category, name))
    if rows:
        return rows[0]["id"]
    new = uuid.uuid4().hex[:12]
    with catalog.transaction() as db:
        db.execute("INSERT INTO albums(id, name, category, root, mode, created_at) VALUES (?,?,?,?,?,?)",
                   (new, name, category, root, mode, now().isoformat()))
    return new


def members(catalog: Catalog, album: str) -> dict[str, str]:
    """The album's members: path relative to its root -> asset id."""
    return {r["rel"]: r["asset_id"]
            for r in catalog.rows("SELECT rel, asset_id FROM album_assets WHERE album_id = ?", (album,))}


def set_members(catalog: Catalog, album: str, found: dict[str, str], root: str, mode: str) -> None:
    """The album holds exactly `found` (relative path -> asset id), synced now from `root`."""
    with catalog.transaction() as db:
        db.execute("DELETE FROM album_assets WHERE album_id = ?", (album,))
        db.executemany("INSERT INTO album_assets(album_id, asset_id, rel, added_at) VALUES (?,?,?,?)",
                       [(album, aid, rel, now().isoformat()) for rel, aid in found.items()])
        db.execute("UPDATE albums SET synced_at = ?, root = ?, mode = ? WHERE id = ?",
                   (now().isoformat(), root, mode, album))


def albums(catalog: Catalog) -> list[dict]:
    """Every album with its member count, by category and name."""
    rows = catalog.rows(
        "SELECT a.*, (SELECT count(*) FROM album_assets m WHERE m.album_id = a.id) AS members FROM albums a"
        " ORDER BY category, name")
    return [dict(r) for r in rows]


def named(catalog: Catalog, ref: str) -> list[dict]:
    """The albums a user's name may mean: an id, a `name` (in any category) or `category/name`."""
    category, slash, name = ref.rpartition("/")
    return [dict(r) for r in catalog.rows(
        "SELECT id, category, name FROM albums WHERE id = ?1 OR (name = ?2 AND (category = ?3 OR ?4))",
        (ref, name, category, not slash))]


def member_ids(catalog: Catalog, album: str) -> list[str]:
    """The asset ids of an album, once each, in the order of their paths."""
    return [r["asset_id"] for r in catalog.rows("SELECT DISTINCT asset_id FROM album_assets WHERE album_id = ? "
                                                  "ORDER BY rel", (album,))]


def album_count(catalog: Catalog) -> int:
    return catalog.rows("SELECT count(*) AS n FROM albums")[0]["n"]


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
