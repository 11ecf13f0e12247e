"""The SQLite catalog: the source of truth for assets, files, scenes, relations, jobs and errors.

One process writes (the store owner); WAL lets readers look while it does. Vectors in Chroma
can always be rebuilt from what is here plus the media.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from dam.schema import Asset, ErrorRecord, Job, MediaInfo, Relation, Scene

_SCHEMA = """
CREATE TABLE IF NOT EXISTS assets (
    id TEXT PRIMARY KEY, content_hash TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    path TEXT NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL, mtime REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'new', info TEXT, levels TEXT NOT NULL DEFAULT '{}',
    encoder TEXT, poster TEXT, error TEXT, duration REAL, width INTEGER, height INTEGER,
    created TEXT, added_at TEXT NOT NULL, indexed_at TEXT, damaged TEXT
);
CREATE INDEX IF NOT EXISTS assets_added ON assets(added_at);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, asset_id TEXT, size INTEGER NOT NULL, mtime REAL NOT NULL,
    kind TEXT, seen_at TEXT NOT NULL, error TEXT
);
CREATE INDEX IF NOT EXISTS files_asset ON files(asset_id);
CREATE TABLE IF NOT EXISTS scenes (
    asset_id TEXT NOT NULL, idx INTEGER NOT NULL, start REAL NOT NULL, "end" REAL NOT NULL,
    start_frame INTEGER NOT NULL, end_frame INTEGER NOT NULL, transition TEXT NOT NULL,
    hero_time REAL, thumbnail TEXT, PRIMARY KEY (asset_id, idx)
);
CREATE TABLE IF NOT EXISTS relations (
    kind TEXT NOT NULL, asset_id TEXT NOT NULL, other_id TEXT NOT NULL, score REAL NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (kind, asset_id, other_id)
);
CREATE TABLE IF NOT EXISTS scans (
    id TEXT PRIMARY KEY, root TEXT NOT NULL, started_at TEXT NOT NULL, report TEXT
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, total INTEGER DEFAULT 0,
    done INTEGER DEFAULT 0, failed INTEGER DEFAULT 0, created_at TEXT NOT NULL,
    finished_at TEXT, detail TEXT NOT NULL DEFAULT '{}', owner TEXT
);
CREATE TABLE IF NOT EXISTS errors (
    id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT, path TEXT NOT NULL, stage TEXT NOT NULL,
    reason TEXT NOT NULL, at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS errors_job ON errors(job_id);
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
CREATE TABLE IF NOT EXISTS motion (
    asset_id TEXT PRIMARY KEY, has_motion INTEGER NOT NULL, timeline TEXT NOT NULL, analysed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS motion_intervals (
    asset_id TEXT NOT NULL, start REAL NOT NULL, "end" REAL NOT NULL, kind TEXT NOT NULL, intensity REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS motion_intervals_asset ON motion_intervals(asset_id);
CREATE TABLE IF NOT EXISTS cameras (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, source TEXT NOT NULL, node TEXT, settings TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT 'new', plugs INTEGER NOT NULL DEFAULT 0, recordings INTEGER NOT NULL DEFAULT 0,
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    uri TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime REAL NOT NULL, asset_id TEXT, path TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS assets_fts USING fts5(
    asset_id UNINDEXED, name, path, meta, tokenize = "unicode61 remove_diacritics 2"
);
CREATE TABLE IF NOT EXISTS transcripts (
    asset_id TEXT PRIMARY KEY, language TEXT NOT NULL, backend TEXT NOT NULL, model TEXT NOT NULL,
    created_at TEXT NOT NULL, data TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS transcript_fts USING fts5(
    asset_id UNINDEXED, start UNINDEXED, "end" UNINDEXED, text, tokenize = "unicode61 remove_diacritics 2"
);
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
CREATE TABLE IF NOT EXISTS stems (
    asset_id TEXT PRIMARY KEY, method TEXT NOT NULL, model TEXT, created_at TEXT NOT NULL, data TEXT NOT NULL
);
"""


if TYPE_CHECKING:
    from dam.config import Settings


def now() -> datetime:
    return datetime.now(timezone.utc)


def open_catalog(settings: "Settings") -> "Catalog":
    """The catalog as configured: this process opens the SQLite file (embedded), or it talks to
    the one writer actor on the Ray head (cluster; see dam.actors.catalog). Same interface."""
    if settings.catalog_mode == "actor":
        from dam.actors.catalog import RemoteCatalog
        from dam.datasets.pipeline import ensure_ray

        ensure_ray(settings)
        return RemoteCatalog(settings.catalog_path)  # type: ignore[return-value]
    return Catalog(settings.catalog_path)


class Catalog:
    mode = "embedded"

    def __init__(self, path: Path, readonly: bool = False):
        path.parent.mkdir(parents=True, exist_ok=True)
        uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        if not readonly:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            columns = {r["name"] for r in self._db.execute("PRAGMA table_info(jobs)")}
            if "owner" not in columns:  # catalogs made before jobs knew their process
                self._db.execute("ALTER TABLE jobs ADD COLUMN owner TEXT")
            columns = {r["name"] for r in self._db.execute("PRAGMA table_info(assets)")}
            if "damaged" not in columns:  # catalogs made before damaged files were salvaged
                self._db.execute("ALTER TABLE assets ADD COLUMN damaged TEXT")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, args: Iterable = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    # --- files -----------------------------------------------------------------------------

    def file(self, path: str) -> sqlite3.Row | None:
        rows = self._rows("SELECT * FROM files WHERE path = ?", (path,))
        return rows[0] if rows else None

    def files_under(self, root: str) -> list[sqlite3.Row]:
        prefix = root.rstrip("/") + "/"
        return self._rows("SELECT * FROM files WHERE substr(path, 1, ?) = ?", (len(prefix), prefix))

    def put_file(self, path: str, size: int, mtime: float, asset_id: str | None, kind: str | None, error: str | None = None) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO files(path, asset_id, size, mtime, kind, seen_at, error) VALUES (?,?,?,?,?,?,?) "
                "ON CONFLICT(path) DO UPDATE SET asset_id=excluded.asset_id, size=excluded.size, "
                "mtime=excluded.mtime, kind=excluded.kind, seen_at=excluded.seen_at, error=excluded.error",
                (path, asset_id, size, mtime, kind, now().isoformat(), error),
            )

    def forget_file(self, path: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM files WHERE path = ?", (path,))

    def orphaned(self, asset_id: str) -> bool:
        return not self._rows("SELECT 1 FROM files WHERE asset_id = ? LIMIT 1", (asset_id,))

    def follow_copies(self, asset_id: str, not_at: str | None = None) -> str | None:
        """Identity is content: point the asset at a copy that exists (its own path while that is
        there, else the copy seen last). None when no copy exists (the caller says so). Without
        this a deleted copy stayed the asset's path: enrich, exports and /media all used it.
        `not_at`: a path that no longer holds this content (it changed)."""
        import os

        rows = self._rows("SELECT path FROM assets WHERE id = ?", (asset_id,))
        if not rows:
            return None
        if rows[0]["path"] != not_at and os.path.exists(rows[0]["path"]):
            return rows[0]["path"]
        for r in self._rows("SELECT path FROM files WHERE asset_id = ? ORDER BY seen_at DESC", (asset_id,)):
            if r["path"] != not_at and os.path.exists(r["path"]):
                with self.transaction() as db:
                    db.execute("UPDATE assets SET path = ?, name = ? WHERE id = ?", (r["path"], Path(r["path"]).name, asset_id))
                return r["path"]
        return None

    # --- object-store sources (dam.objectstore) ------------------------------------------------

    def source(self, uri: str) -> sqlite3.Row | None:
        rows = self._rows("SELECT * FROM sources WHERE uri = ?", (uri,))
        return rows[0] if rows else None

    def put_source(self, uri: str, size: int, mtime: float, asset_id: str | None, path: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO sources(uri, size, mtime, asset_id, path, seen_at) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(uri) DO UPDATE SET size=excluded.size, mtime=excluded.mtime, asset_id=excluded.asset_id, "
                "path=excluded.path, seen_at=excluded.seen_at", (uri, size, mtime, asset_id, path, now().isoformat()))

    # --- assets ----------------------------------------------------------------------------

    def upsert_asset(self, asset_id: str, content_hash: str, path: str, size: int, mtime: float, info: MediaInfo) -> None:
        size_wh = info.display_size or (None, None)
        with self.transaction() as db:
            db.execute(
                "INSERT INTO assets(id, content_hash, kind, path, name, size, mtime, info, duration, width, height,"
                " created, added_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET"
                " path=excluded.path, name=excluded.name, mtime=excluded.mtime, info=excluded.info",
                (
                    asset_id, content_hash, info.kind, path, Path(path).name, size, mtime, info.model_dump_json(),
                    info.duration, size_wh[0], size_wh[1],
                    info.creation_time.isoformat() if info.creation_time else None, now().isoformat(),
                ),
            )
            meta = " ".join(
                str(x) for x in (info.kind, info.container, info.video and info.video.codec, info.make, info.model,
                                 " ".join(info.tags.values())) if x
            )
            db.execute("DELETE FROM assets_fts WHERE asset_id = ?", (asset_id,))
            words = Path(path).stem.replace("_", " ").replace("-", " ").replace(".", " ")
            db.execute("INSERT INTO assets_fts(asset_id, name, path, meta) VALUES (?,?,?,?)",
                       (asset_id, f"{Path(path).name} {words}", path, meta))

    def set_asset(self, asset_id: str, **fields: object) -> None:
        for k in ("levels", "damaged"):
            if k in fields and fields[k] is not None:
                fields[k] = json.dumps(fields[k])
        for k in ("indexed_at",):
            if isinstance(fields.get(k), datetime):
                fields[k] = fields[k].isoformat()  # type: ignore[union-attr]
        cols = ", ".join(f"{k} = ?" for k in fields)
        with self.transaction() as db:
            db.execute(f"UPDATE assets SET {cols} WHERE id = ?", (*fields.values(), asset_id))

    def delete_asset(self, asset_id: str) -> None:
        with self.transaction() as db:
            for sql in (
                "DELETE FROM assets WHERE id = ?", "DELETE FROM assets_fts WHERE asset_id = ?",
                "DELETE FROM transcripts WHERE asset_id = ?", "DELETE FROM transcript_fts WHERE asset_id = ?",
                "DELETE FROM scenes WHERE asset_id = ?",
                "DELETE FROM scenes WHERE asset_id = ?", "DELETE FROM motion WHERE asset_id = ?",
                "DELETE FROM motion_intervals WHERE asset_id = ?", "DELETE FROM enrich_labels WHERE asset_id = ?",
                "DELETE FROM enrich_text WHERE asset_id = ?", "DELETE FROM enrich_fts WHERE asset_id = ?",
                "DELETE FROM enrich_scene_labels WHERE asset_id = ?", "DELETE FROM enrich_scene_fts WHERE asset_id = ?",
                "DELETE FROM relations WHERE asset_id = ?1 OR other_id = ?1",
            ):
                db.execute(sql, (asset_id,))

    def asset(self, ref: str) -> Asset | None:
        """By id, id prefix, content hash or path."""
        rows = (self._rows("SELECT a.* FROM files f JOIN assets a ON a.id = f.asset_id WHERE f.path = ?", (ref,))
                or self._rows("SELECT * FROM assets WHERE id = ?1 OR content_hash = ?1 OR path = ?1 LIMIT 1", (ref,)))
        if not rows and len(ref) >= 4:
            # The reference is text, not a pattern: `%`, `_` and the escape character match themselves.
            pattern = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = self._rows("SELECT * FROM assets WHERE id LIKE ? ESCAPE '\\' LIMIT 2", (pattern,))
            rows = rows if len(rows) == 1 else []
        return _asset(rows[0]) if rows else None

    def assets(self, ids: Iterable[str] | None = None, kind: str | None = None, limit: int = 1000) -> list[Asset]:
        sql, args = "SELECT * FROM assets WHERE 1=1", []
        if ids is not None:
            ids = list(ids)
            sql += f" AND id IN ({','.join('?' * len(ids))})"
            args += ids
        if kind:
            sql += " AND kind = ?"
            args.append(kind)
        return [_asset(r) for r in self._rows(sql + " ORDER BY added_at DESC LIMIT ?", (*args, limit))]

    def recent(self, limit: int = 20) -> list[Asset]:
        return self.assets(limit=limit)

    def counts(self) -> dict[str, int]:
        row = self._rows(
            "SELECT (SELECT count(*) FROM assets) a, (SELECT count(*) FROM assets WHERE status='indexed') i,"
            " (SELECT count(*) FROM files) f, (SELECT count(*) FROM scenes) s, (SELECT count(*) FROM relations) r"
        )[0]
        return {"assets": row["a"], "indexed": row["i"], "files": row["f"], "scenes": row["s"], "relations": row["r"]}

    def text_search(self, query: str, limit: int = 50) -> list[tuple[str, float]]:
        """FTS5 over names, paths and metadata; bm25 ranks (lower is better, returned negated)."""
        terms = [t for t in "".join(c if c.isalnum() else " " for c in query).split() if t]
        if not terms:
            return []
        match = " OR ".join(f'"{t}"*' for t in terms)
        rows = self._rows(
            "SELECT asset_id, bm25(assets_fts) AS rank FROM assets_fts WHERE assets_fts MATCH ? ORDER BY rank LIMIT ?",
            (match, limit),
        )
        return [(r["asset_id"], -r["rank"]) for r in rows]

    # --- scenes and relations --------------------------------------------------------------

    def replace_scenes(self, asset_id: str, scenes: list[Scene]) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM scenes WHERE asset_id = ?", (asset_id,))
            db.executemany(
                'INSERT INTO scenes(asset_id, idx, start, "end", start_frame, end_frame, transition, hero_time, thumbnail)'
                " VALUES (?,?,?,?,?,?,?,?,?)",
                [(asset_id, s.index, s.start, s.end, s.start_frame, s.end_frame, s.transition, s.hero_time, s.thumbnail)
                 for s in scenes],
            )

    def scenes(self, asset_id: str) -> list[Scene]:
        rows = self._rows("SELECT * FROM scenes WHERE asset_id = ? ORDER BY idx", (asset_id,))
        return [Scene(asset_id=r["asset_id"], index=r["idx"], start=r["start"], end=r["end"],
                      start_frame=r["start_frame"], end_frame=r["end_frame"], transition=r["transition"],
                      hero_time=r["hero_time"], thumbnail=r["thumbnail"]) for r in rows]

    def replace_relations(self, asset_id: str, relations: list[Relation], kinds: tuple[str, ...] | None = None) -> None:
        """Replace the asset's outgoing relations (only those of `kinds` when given)."""
        with self.transaction() as db:
            if kinds:
                db.execute(f"DELETE FROM relations WHERE asset_id = ? AND kind IN ({','.join('?' * len(kinds))})",
                           (asset_id, *kinds))
            else:
                db.execute("DELETE FROM relations WHERE asset_id = ?", (asset_id,))
            db.executemany(
                "INSERT OR REPLACE INTO relations(kind, asset_id, other_id, score, detail) VALUES (?,?,?,?,?)",
                [(r.kind, r.asset_id, r.other_id, r.score, json.dumps(r.detail)) for r in relations],
            )

    def relations(self, asset_id: str) -> list[Relation]:
        rows = self._rows("SELECT * FROM relations WHERE asset_id = ?1 OR other_id = ?1 ORDER BY score DESC", (asset_id,))
        out = []
        for r in rows:
            mine = r["asset_id"] == asset_id
            detail = json.loads(r["detail"])
            if r["kind"] == "multicam" and detail.get("offset") is not None:
                # Stored clip -> reference; seen from either end, say where the other one starts.
                detail["other_starts_at"] = -detail["offset"] if mine else detail["offset"]
            out.append(Relation(kind=r["kind"], asset_id=asset_id, other_id=r["other_id"] if mine else r["asset_id"],
                                score=r["score"], detail=detail))
        return out

    # --- transcripts (dam.audio.transcribe.Transcript as JSON, segments in FTS) -----------------

    def put_transcript(self, asset_id: str, language: str, backend: str, model: str, data: str,
                       segments: list[tuple[float, float, str]]) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO transcripts(asset_id, language, backend, model, created_at, data)"
                       " VALUES (?,?,?,?,?,?)", (asset_id, language, backend, model, now().isoformat(), data))
            db.execute("DELETE FROM transcript_fts WHERE asset_id = ?", (asset_id,))
            db.executemany('INSERT INTO transcript_fts(asset_id, start, "end", text) VALUES (?,?,?,?)',
                           [(asset_id, s, e, t) for s, e, t in segments])

    def transcript(self, asset_id: str) -> sqlite3.Row | None:
        rows = self._rows("SELECT * FROM transcripts WHERE asset_id = ?", (asset_id,))
        return rows[0] if rows else None

    def transcript_search(self, query: str, limit: int = 50) -> list[tuple[str, float, float, str, float]]:
        """Spoken segments matching the words of `query`: (asset, start, end, text, -bm25)."""
        terms = [t for t in "".join(c if c.isalnum() else " " for c in query).split() if t]
        if not terms:
            return []
        rows = self._rows('SELECT asset_id, start, "end", text, bm25(transcript_fts) AS rank FROM transcript_fts'
                          " WHERE transcript_fts MATCH ? ORDER BY rank LIMIT ?",
                          (" OR ".join(f'"{t}"*' for t in terms), limit))
        return [(r["asset_id"], r["start"], r["end"], r["text"], -r["rank"]) for r in rows]

    # --- jobs, scans, errors ---------------------------------------------------------------

    def start_job(self, kind: str, total: int = 0, detail: dict | None = None, owner: str | None = None) -> str:
        """`owner` names the process running the job (dam.library_ops.jobs.this_process), so a job
        whose process was killed can be told from one still running."""
        job_id = uuid.uuid4().hex[:12]
        with self.transaction() as db:
            db.execute("INSERT INTO jobs(id, kind, status, total, created_at, detail, owner) VALUES (?,?,?,?,?,?,?)",
                       (job_id, kind, "running", total, now().isoformat(), json.dumps(detail or {}), owner))
        return job_id

    def unfinished_jobs(self) -> list[tuple[str, str | None]]:
        return [(r["id"], r["owner"]) for r in self._rows("SELECT id, owner FROM jobs WHERE status IN ('queued', 'running')")]

    def update_job(self, job_id: str, **fields: object) -> None:
        if "detail" in fields:
            fields["detail"] = json.dumps(fields["detail"])
        if fields.get("status") in ("done", "failed", "interrupted"):
            fields["finished_at"] = now().isoformat()
        cols = ", ".join(f"{k} = ?" for k in fields)
        with self.transaction() as db:
            db.execute(f"UPDATE jobs SET {cols} WHERE id = ?", (*fields.values(), job_id))

    def record_error(self, job_id: str | None, err: ErrorRecord) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO errors(job_id, path, stage, reason, at) VALUES (?,?,?,?,?)",
                       (job_id, err.path, err.stage, err.reason, now().isoformat()))

    def job(self, job_id: str) -> Job | None:
        rows = self._rows("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return self._job(rows[0]) if rows else None

    def jobs(self, limit: int = 20) -> list[Job]:
        return [self._job(r) for r in self._rows("SELECT * FROM jobs ORDER BY created_at DESC LIMIT ?", (limit,))]

    def _job(self, r: sqlite3.Row) -> Job:
        errs = self._rows("SELECT path, stage, reason FROM errors WHERE job_id = ? ORDER BY id", (r["id"],))
        return Job(id=r["id"], kind=r["kind"], status=r["status"], total=r["total"], done=r["done"],
                   failed=r["failed"], created_at=r["created_at"], finished_at=r["finished_at"],
                   detail=json.loads(r["detail"]), errors=[ErrorRecord(**dict(e)) for e in errs])

    def record_scan(self, root: str, report_json: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO scans(id, root, started_at, report) VALUES (?,?,?,?)",
                       (uuid.uuid4().hex[:12], root, now().isoformat(), report_json))


def _asset(r: sqlite3.Row) -> Asset:
    return Asset(
        id=r["id"], path=r["path"], name=r["name"], kind=r["kind"], content_hash=r["content_hash"], size=r["size"],
        mtime=r["mtime"], status=r["status"], info=MediaInfo.model_validate_json(r["info"]) if r["info"] else None,
        levels=json.loads(r["levels"] or "{}"), encoder=r["encoder"], poster=r["poster"], error=r["error"],
        added_at=r["added_at"], indexed_at=r["indexed_at"],
        damaged=json.loads(r["damaged"]) if "damaged" in r.keys() and r["damaged"] else [],
    )
