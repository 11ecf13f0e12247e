"""Motion timelines in the catalog (tables `motion`, `motion_intervals`), the search filter over
them. The catalog owner calls these; nothing else writes. The ingest stage is dam.motion.stage."""

from __future__ import annotations

from dam.catalog import Catalog, now
from dam.motion.model import MotionTimeline
from dam.schema import Hit

# Part of the catalog's version 1 (dam.migrations): a change to these tables is a new migration.
TABLES = """
CREATE TABLE IF NOT EXISTS motion (
    asset_id TEXT PRIMARY KEY, has_motion INTEGER NOT NULL, timeline TEXT NOT NULL, analysed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS motion_intervals (
    asset_id TEXT NOT NULL, start REAL NOT NULL, "end" REAL NOT NULL, kind TEXT NOT NULL, intensity REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS motion_intervals_asset ON motion_intervals(asset_id);
"""


def save(catalog: Catalog, asset_id: str, tl: MotionTimeline) -> None:
    with catalog.transaction() as db:
        db.execute("INSERT OR REPLACE INTO motion(asset_id, has_motion, timeline, analysed_at) VALUES (?,?,?,?)",
                   (asset_id, int(tl.has_motion), tl.model_dump_json(), now().isoformat()))
        db.execute("DELETE FROM motion_intervals WHERE asset_id = ?", (asset_id,))
        db.executemany('INSERT INTO motion_intervals(asset_id, start, "end", kind, intensity) VALUES (?,?,?,?,?)',
                       [(asset_id, i.start, i.end, i.kind, i.intensity) for i in tl.intervals])


def load(catalog: Catalog, asset_id: str) -> MotionTimeline | None:
    rows = catalog.rows("SELECT timeline FROM motion WHERE asset_id = ?", (asset_id,))
    return MotionTimeline.model_validate_json(rows[0]["timeline"]) if rows else None


def summary(catalog: Catalog, asset_id: str) -> dict | None:
    """What an asset page shows: whether it moved, and when (no per-frame boxes)."""
    rows = catalog.rows("SELECT has_motion, analysed_at FROM motion WHERE asset_id = ?", (asset_id,))
    if not rows:
        return None
    spans = catalog.rows('SELECT start, "end", kind, intensity FROM motion_intervals WHERE asset_id = ? '
                          "ORDER BY start", (asset_id,))
    return {"has_motion": bool(rows[0]["has_motion"]), "analysed_at": rows[0]["analysed_at"],
            "intervals": [dict(r) for r in spans]}


def _where(motion: bool | None, start: float | None, end: float | None) -> tuple[str, list]:
    """SQL selecting asset ids that satisfy the motion filter."""
    if start is not None or end is not None:
        return ('SELECT DISTINCT asset_id FROM motion_intervals WHERE kind = \'object\' AND "end" > ? AND start < ?',
                [start or 0.0, end if end is not None else 1e12])
    return "SELECT asset_id FROM motion WHERE has_motion = ?", [int(bool(motion))]


def matching(catalog: Catalog, ids: set[str], motion: bool | None, start: float | None, end: float | None) -> set[str]:
    """The ids among `ids` whose stored motion satisfies the filter (unanalysed assets never do)."""
    sql, args = _where(motion, start, end)
    found = {r["asset_id"] for r in catalog.rows(sql, args)}
    return ids & found


def motion_hits(catalog: Catalog, start: float | None, end: float | None, limit: int) -> list[Hit]:
    """Moments with object motion (optionally overlapping [start, end]), strongest first: what a
    search with only a motion filter returns."""
    rows = catalog.rows(
        'SELECT m.asset_id, m.start, m."end", m.intensity, a.path, a.poster FROM motion_intervals m '
        'JOIN assets a ON a.id = m.asset_id WHERE m.kind = \'object\' AND m."end" > ? AND m.start < ? '
        "ORDER BY m.intensity DESC LIMIT ?", (start or 0.0, end if end is not None else 1e12, limit * 5))
    hits: dict[str, Hit] = {}
    for r in rows:
        h = hits.get(r["asset_id"])
        if h is None:
            hits[r["asset_id"]] = Hit(asset_id=r["asset_id"], path=r["path"], start=r["start"], end=r["end"],
                                      score=round(r["intensity"], 5), level="motion", at=r["start"],
                                      why=f"motion {r['start']:.1f}–{r['end']:.1f}s", thumbnail=r["poster"])
        else:
            h.moments += 1
    return list(hits.values())[:limit]
