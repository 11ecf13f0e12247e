"""The `cameras` table: each camera's stable id, name, source, node, settings, state and counts.
A re-plugged camera keeps its id and settings. Reads through `Catalog.rows`, writes through
`Catalog.transaction`; the camera manager (dam.actors.manager) is its one writer."""

from __future__ import annotations

import json

from dam.catalog import Catalog, now

# Part of the catalog's version 1 (dam.migrations): a change to this table is a new migration.
TABLES = """
CREATE TABLE IF NOT EXISTS cameras (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, source TEXT NOT NULL, node TEXT, settings TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT 'new', plugs INTEGER NOT NULL DEFAULT 0, recordings INTEGER NOT NULL DEFAULT 0,
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL
);
"""


def _decoded(row) -> dict:
    out = dict(row)
    out["settings"] = json.loads(out["settings"])
    return out


def camera(catalog: Catalog, cam_id: str) -> dict | None:
    rows = catalog.rows("SELECT * FROM cameras WHERE id = ?", (cam_id,))
    return _decoded(rows[0]) if rows else None


def cameras(catalog: Catalog) -> list[dict]:
    """Every camera the catalog knows, by id, its settings decoded."""
    return [_decoded(r) for r in catalog.rows("SELECT * FROM cameras ORDER BY id")]


def stop_all(catalog: Catalog) -> None:
    """A new (or restarted) manager runs no camera yet."""
    with catalog.transaction() as db:
        db.execute("UPDATE cameras SET state = 'stopped' WHERE state = 'running'")


def plugged(catalog: Catalog, cam_id: str, name: str, source: str, node: str | None) -> None:
    """A camera seen now: new, or known and plugged once more (its settings kept)."""
    when = now().isoformat()
    with catalog.transaction() as db:
        db.execute("INSERT INTO cameras(id, name, source, node, state, plugs, first_seen, last_seen) "
                   "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET source = excluded.source, "
                   "node = excluded.node, state = excluded.state, plugs = plugs + 1, "
                   "last_seen = excluded.last_seen",
                   (cam_id, name, source, node, "running", 1, when, when))


def touch(catalog: Catalog, cam_id: str, **fields) -> None:
    """Set some columns (e.g. state) and the time it was last seen."""
    cols = ", ".join(f"{k} = ?" for k in fields)
    with catalog.transaction() as db:
        db.execute(f"UPDATE cameras SET {cols}, last_seen = ? WHERE id = ?",
                   (*fields.values(), now().isoformat(), cam_id))


def configure(catalog: Catalog, cam_id: str, settings: dict) -> dict | None:
    """Merge `settings` into the camera's stored ones; the merged settings, None for no such camera."""
    row = camera(catalog, cam_id)
    if row is None:
        return None
    merged = {**row["settings"], **settings}
    touch(catalog, cam_id, settings=json.dumps(merged))
    return merged


def recorded(catalog: Catalog, cam_id: str) -> None:
    with catalog.transaction() as db:
        db.execute("UPDATE cameras SET recordings = recordings + 1 WHERE id = ?", (cam_id,))
