"""Enrichment in the catalog (tables enrich_labels, enrich_text, enrich_fts). Automatic rows are
replaced on every run; rows a person touched (origin 'user': added, or removed=1) and an edited
description are never overwritten, so a re-run cannot undo an edit."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

from dam.catalog import Catalog, now
from dam.enrich.model import Enrichment, Label

# Part of the catalog's version 1 (dam.migrations): a change to these tables is a new migration.
TABLES = """
CREATE TABLE IF NOT EXISTS enrich_labels (
    asset_id TEXT NOT NULL, facet TEXT NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL, confidence REAL NOT NULL,
    origin TEXT NOT NULL DEFAULT 'auto', removed INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL,
    PRIMARY KEY (asset_id, facet, name)
);
CREATE TABLE IF NOT EXISTS enrich_text (
    asset_id TEXT PRIMARY KEY, description TEXT NOT NULL, edited INTEGER NOT NULL DEFAULT 0,
    skipped TEXT NOT NULL DEFAULT '{}', updated_at TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS enrich_fts USING fts5(
    asset_id UNINDEXED, text, tokenize = "unicode61 remove_diacritics 2"
);
CREATE TABLE IF NOT EXISTS enrich_scene_labels (
    asset_id TEXT NOT NULL, scene INTEGER NOT NULL, facet TEXT NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL,
    confidence REAL NOT NULL, PRIMARY KEY (asset_id, scene, facet, name)
);
CREATE VIRTUAL TABLE IF NOT EXISTS enrich_scene_fts USING fts5(
    asset_id UNINDEXED, scene UNINDEXED, text, tokenize = "unicode61 remove_diacritics 2"
);
"""


class StoredLabel(Label):
    origin: str = "auto"
    seen: list[tuple[float, float]] = Field(default_factory=list, description=(
        "Where a picture label is seen: the (start, end) seconds of the shots labelled so, adjacent shots joined."))


class EnrichmentView(BaseModel):
    asset_id: str
    description: str = ""
    description_edited: bool = False
    labels: list[StoredLabel] = Field(default_factory=list)
    skipped: dict[str, str] = Field(default_factory=dict)
    scenes: dict[int, list[Label]] = Field(default_factory=dict, description="Per-shot picture labels.")

    @property
    def keywords(self) -> list[str]:
        """Free tags and classification values, people's additions first, then by confidence."""
        ranked = sorted(self.labels, key=lambda lb: (lb.origin != "user", -lb.confidence))
        return list(dict.fromkeys(lb.name for lb in ranked))


def _reindex(db, asset_id: str) -> None:
    names = [r[0] for r in db.execute("SELECT name FROM enrich_labels WHERE asset_id = ? AND removed = 0", (asset_id,))]
    desc = db.execute("SELECT description FROM enrich_text WHERE asset_id = ?", (asset_id,)).fetchone()
    db.execute("DELETE FROM enrich_fts WHERE asset_id = ?", (asset_id,))
    db.execute("INSERT INTO enrich_fts(asset_id, text) VALUES (?, ?)",
               (asset_id, " ".join(names) + " " + (desc[0] if desc else "")))


def save(catalog: Catalog, e: Enrichment) -> None:
    at = now().isoformat()
    with catalog.transaction() as db:
        db.execute("DELETE FROM enrich_labels WHERE asset_id = ? AND origin = 'auto'", (e.asset_id,))
        db.executemany("INSERT OR IGNORE INTO enrich_labels(asset_id, facet, name, source, confidence, origin, removed,"
                       " updated_at) VALUES (?,?,?,?,?,'auto',0,?)",
                       [(e.asset_id, lb.facet, lb.name, lb.source, lb.confidence, at) for lb in e.labels])
        db.execute("INSERT INTO enrich_text(asset_id, description, edited, skipped, updated_at) VALUES (?,?,0,?,?) "
                   "ON CONFLICT(asset_id) DO UPDATE SET skipped = excluded.skipped, updated_at = excluded.updated_at, "
                   "description = CASE WHEN enrich_text.edited THEN enrich_text.description "
                   "ELSE excluded.description END",
                   (e.asset_id, e.description, json.dumps(e.skipped), at))
        _reindex(db, e.asset_id)
        db.execute("DELETE FROM enrich_scene_labels WHERE asset_id = ?", (e.asset_id,))
        db.execute("DELETE FROM enrich_scene_fts WHERE asset_id = ?", (e.asset_id,))
        db.executemany("INSERT OR IGNORE INTO enrich_scene_labels VALUES (?,?,?,?,?,?)",
                       [(e.asset_id, i, lb.facet, lb.name, lb.source, lb.confidence)
                        for i, labels in e.scenes.items() for lb in labels])
        db.executemany("INSERT INTO enrich_scene_fts(asset_id, scene, text) VALUES (?,?,?)",
                       [(e.asset_id, i, " ".join(lb.name for lb in labels)) for i, labels in e.scenes.items()])


def edit(catalog: Catalog, asset_id: str, add: list[str] = (), remove: list[str] = (),
         description: str | None = None) -> None:
    """A person's edit: added tags, removed tags (remembered, so re-runs do not bring them back)
    and a description that replaces the generated one for good."""
    at = now().isoformat()
    with catalog.transaction() as db:
        for name in (n.strip().lower() for n in remove if n.strip()):
            hit = db.execute("UPDATE enrich_labels SET origin = 'user', removed = 1, updated_at = ? "
                             "WHERE asset_id = ? AND name = ?", (at, asset_id, name)).rowcount
            if not hit:
                db.execute("INSERT INTO enrich_labels VALUES (?, 'tag', ?, 'user', 1.0, 'user', 1, ?)",
                           (asset_id, name, at))
        for name in (n.strip().lower() for n in add if n.strip()):
            db.execute("INSERT INTO enrich_labels VALUES (?, 'tag', ?, 'user', 1.0, 'user', 0, ?) "
                       "ON CONFLICT(asset_id, facet, name) DO UPDATE SET source = 'user', confidence = 1.0, "
                       "origin = 'user', removed = 0, updated_at = excluded.updated_at", (asset_id, name, at))
        if description is not None:
            db.execute("INSERT INTO enrich_text(asset_id, description, edited, updated_at) VALUES (?,?,1,?) "
                       "ON CONFLICT(asset_id) DO UPDATE SET description = excluded.description, edited = 1, "
                       "updated_at = excluded.updated_at", (asset_id, description.strip(), at))
        _reindex(db, asset_id)


def view(catalog: Catalog, asset_id: str) -> EnrichmentView | None:
    text = catalog.rows("SELECT * FROM enrich_text WHERE asset_id = ?", (asset_id,))
    rows = catalog.rows("SELECT * FROM enrich_labels WHERE asset_id = ? AND removed = 0 "
                         "ORDER BY facet = 'tag', facet, confidence DESC", (asset_id,))
    if not text and not rows:
        return None
    t = text[0] if text else None
    scenes: dict[int, list[Label]] = {}
    for r in catalog.rows("SELECT * FROM enrich_scene_labels WHERE asset_id = ? ORDER BY scene, confidence DESC",
                           (asset_id,)):
        scenes.setdefault(r["scene"], []).append(Label(name=r["name"], facet=r["facet"], source=r["source"],
                                                       confidence=r["confidence"]))
    where = _where_seen(catalog, asset_id, scenes) if scenes else {}
    return EnrichmentView(scenes=scenes, asset_id=asset_id, description=t["description"] if t else "",
                          description_edited=bool(t["edited"]) if t else False,
                          skipped=json.loads(t["skipped"]) if t else {},
                          labels=[StoredLabel(name=r["name"], facet=r["facet"], source=r["source"],
                                              confidence=r["confidence"], origin=r["origin"],
                                              seen=where.get((r["facet"], r["name"]), [])) for r in rows])


def _where_seen(catalog: Catalog, asset_id: str, scenes: dict[int, list[Label]]) -> dict[tuple[str, str], list]:
    """(facet, name) -> the time spans of the shots carrying that label, joined where shots touch."""
    spans = {sc.index: (sc.start, sc.end) for sc in catalog.scenes(asset_id)}
    where: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for i in sorted(scenes):
        for lb in (lb for lb in scenes[i] if i in spans):
            runs = where.setdefault((lb.facet, lb.name), [])
            start, end = spans[i]
            if runs and start - runs[-1][1] < 0.05:
                runs[-1] = (runs[-1][0], end)
            elif not runs or runs[-1] != (start, end):
                runs.append((start, end))
    return where


def text_matches(catalog: Catalog, query: str, limit: int) -> list[tuple[str, float]]:
    """Assets whose tags or description match the words (bm25, higher is better)."""
    terms = [t for t in "".join(c if c.isalnum() else " " for c in query).split() if t]
    if not terms:
        return []
    rows = catalog.rows("SELECT asset_id, bm25(enrich_fts) AS rank FROM enrich_fts WHERE enrich_fts MATCH ? "
                         "ORDER BY rank LIMIT ?", (" OR ".join(f'"{t}"*' for t in terms), limit))
    return [(r["asset_id"], -r["rank"]) for r in rows]


def scene_matches(catalog: Catalog, query: str, limit: int) -> list[tuple[str, int, float]]:
    """(asset, scene, score) of shots whose picture labels match the words."""
    terms = [t for t in "".join(c if c.isalnum() else " " for c in query).split() if t]
    if not terms:
        return []
    rows = catalog.rows("SELECT asset_id, scene, bm25(enrich_scene_fts) AS rank FROM enrich_scene_fts "
                         "WHERE enrich_scene_fts MATCH ? ORDER BY rank LIMIT ?",
                         (" OR ".join(f'"{t}"*' for t in terms), limit))
    return [(r["asset_id"], int(r["scene"]), -r["rank"]) for r in rows]
