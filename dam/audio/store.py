"""Audio's tables and vectors: the transcript of an asset (table `transcripts`, its segments in
`transcript_fts` for word search), one text vector per segment in Chroma (`{id}:speech:{i}`),
and its dialogue / music stems (table `stems`; WAV files under <data dir>/stems/<asset id>/:
the asset id is the content hash, so changed media gets new stems). Like dam/motion/store.py:
the catalog owner calls these; nothing else writes."""

from __future__ import annotations

from pathlib import Path

from dam.audio.separate import STEMS, Stems
from dam.audio.transcribe import Transcript
from dam.catalog import Catalog, fts_match, now
from dam.schema import Asset
from dam.store import vector_id

# Part of the catalog's version 1 (dam.migrations): a change to these tables is a new migration.
TABLES = """
CREATE TABLE IF NOT EXISTS transcripts (
    asset_id TEXT PRIMARY KEY, language TEXT NOT NULL, backend TEXT NOT NULL, model TEXT NOT NULL,
    created_at TEXT NOT NULL, data TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS transcript_fts USING fts5(
    asset_id UNINDEXED, start UNINDEXED, "end" UNINDEXED, text, tokenize = "unicode61 remove_diacritics 2"
);
"""
STEMS_TABLE = """
CREATE TABLE IF NOT EXISTS stems (
    asset_id TEXT PRIMARY KEY, method TEXT NOT NULL, model TEXT, created_at TEXT NOT NULL, data TEXT NOT NULL
);
"""  # migration 4

SOURCE = "speech"  # the `source` of a segment's vector in the text space
MULTICAM = "multicam"  # the kind of the relation that holds a camera's offset to its group's reference


def store(lib, asset_id: str, tr: Transcript) -> None:
    """Catalog row + FTS segments + one vector per segment (ids `{asset}:speech:{i}`: re-runs upsert)."""
    with lib.catalog.transaction() as db:
        db.execute("INSERT OR REPLACE INTO transcripts(asset_id, language, backend, model, created_at, data)"
                   " VALUES (?,?,?,?,?,?)",
                   (asset_id, tr.language, tr.backend, tr.model, now().isoformat(), tr.model_dump_json()))
        db.execute("DELETE FROM transcript_fts WHERE asset_id = ?", (asset_id,))
        db.executemany('INSERT INTO transcript_fts(asset_id, start, "end", text) VALUES (?,?,?,?)',
                       [(asset_id, s.start, s.end, s.text) for s in tr.segments])
    key = lib.text_encoder_key
    ids = [vector_id(asset_id, SOURCE, i) for i in range(len(tr.segments))]
    stale = [i for i in lib.store.ids_of("text", key, asset_id) if ":speech:" in i and i not in set(ids)]
    lib.store.delete_ids("text", key, stale)
    if ids:
        texts = [s.text for s in tr.segments]
        lib.store.upsert("text", key, ids, lib.text_encoder.embed(texts),
                         [{"asset_id": asset_id, "source": SOURCE, "start": s.start, "end": s.end}
                          for s in tr.segments], documents=texts)
    a = lib.catalog.asset(asset_id)
    if a is not None:
        lib.catalog.set_asset(asset_id, levels={**a.levels, "speech": len(tr.segments)})


def transcript_of(lib, asset_id: str) -> Transcript | None:
    rows = lib.catalog.rows("SELECT data FROM transcripts WHERE asset_id = ?", (asset_id,))
    return Transcript.model_validate_json(rows[0]["data"]) if rows else None


def said(catalog: Catalog, query: str, limit: int = 50) -> list[tuple[str, float, float, str, float]]:
    """Spoken segments matching the words of `query`: (asset, start, end, text, -bm25)."""
    match = fts_match(query)
    if match is None:
        return []
    rows = catalog.rows('SELECT asset_id, start, "end", text, bm25(transcript_fts) AS rank FROM transcript_fts'
                        " WHERE transcript_fts MATCH ? ORDER BY rank LIMIT ?", (match, limit))
    return [(r["asset_id"], r["start"], r["end"], r["text"], -r["rank"]) for r in rows]


def has_audio(a: Asset) -> bool:
    return bool(a.info and a.info.audio)


def stems_folder(root: Path, asset_id: str) -> Path:
    return root / "stems" / asset_id


def save_stems(catalog: Catalog, asset_id: str, stems: Stems) -> None:
    with catalog.transaction() as db:
        db.execute("INSERT OR REPLACE INTO stems(asset_id, method, model, created_at, data) VALUES (?,?,?,?,?)",
                   (asset_id, stems.method, stems.model, now().isoformat(),
                    stems.model_dump_json(exclude={"reused", "seconds"})))


def stems_of(catalog: Catalog, asset_id: str) -> Stems | None:
    rows = catalog.rows("SELECT data FROM stems WHERE asset_id = ?", (asset_id,))
    return Stems.model_validate_json(rows[0]["data"]) if rows else None


def stems_summary(catalog: Catalog, asset_id: str) -> dict | None:
    """What `dam info` shows: the stems' files (and whether they are still there) and their method."""
    rows = catalog.rows("SELECT data, created_at FROM stems WHERE asset_id = ?", (asset_id,))
    if not rows:
        return None
    s = Stems.model_validate_json(rows[0]["data"])
    return {**s.model_dump(mode="json", exclude={"reused", "seconds", "path"}), "created_at": rows[0]["created_at"],
            "present": all(Path(getattr(s, k)).is_file() for k in STEMS)}
