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

from dam.migrations import migrate
from dam.schema import Asset, ErrorRecord, Job, MediaInfo, Relation, Scene


def now() -> datetime:
    return datetime.now(timezone.utc)


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
            migrate(self._db)

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

    def rows(self, sql: str, args: Iterable = ()) -> list[sqlite3.Row]:
        """The public read: one SELECT, its rows. Features that own tables (motion, enrich, albums,
        cameras...) query them through this and write through `transaction()`; in actor mode the
        call runs in the catalog actor (dam.runtime.catalog_actor), so the SQL must be one statement."""
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    # --- files -----------------------------------------------------------------------------

    def file(self, path: str) -> sqlite3.Row | None:
        rows = self.rows("SELECT * FROM files WHERE path = ?", (path,))
        return rows[0] if rows else None

    def files_under(self, root: str) -> list[sqlite3.Row]:
        prefix = root.rstrip("/") + "/"
        return self.rows("SELECT * FROM files WHERE substr(path, 1, ?) = ?", (len(prefix), prefix))

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
        return not self.rows("SELECT 1 FROM files WHERE asset_id = ? LIMIT 1", (asset_id,))

    def follow_copies(self, asset_id: str, not_at: str | None = None) -> str | None:
        """Identity is content: point the asset at a copy that exists (its own path while that is
        there, else the copy seen last). None when no copy exists (the caller says so). Without
        this a deleted copy stayed the asset's path: enrich, exports and /media all used it.
        `not_at`: a path that no longer holds this content (it changed)."""
        import os

        rows = self.rows("SELECT path FROM assets WHERE id = ?", (asset_id,))
        if not rows:
            return None
        if rows[0]["path"] != not_at and os.path.exists(rows[0]["path"]):
            return rows[0]["path"]
        for r in self.rows("SELECT path FROM files WHERE asset_id = ? ORDER BY seen_at DESC", (asset_id,)):
            if r["path"] != not_at and os.path.exists(r["path"]):
                with self.transaction() as db:
                    db.execute("UPDATE assets SET path = ?, name = ? WHERE id = ?", (r["path"], Path(r["path"]).name, asset_id))
                return r["path"]
        return None

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
        rows = (self.rows("SELECT a.* FROM files f JOIN assets a ON a.id = f.asset_id WHERE f.path = ?", (ref,))
                or self.rows("SELECT * FROM assets WHERE id = ?1 OR content_hash = ?1 OR path = ?1 LIMIT 1", (ref,)))
        if not rows and len(ref) >= 4:
            # The reference is text, not a pattern: `%`, `_` and the escape character match themselves.
            pattern = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = self.rows("SELECT * FROM assets WHERE id LIKE ? ESCAPE '\\' LIMIT 2", (pattern,))
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
        return [_asset(r) for r in self.rows(sql + " ORDER BY added_at DESC LIMIT ?", (*args, limit))]

    def recent(self, limit: int = 20) -> list[Asset]:
        return self.assets(limit=limit)

    def counts(self) -> dict[str, int]:
        row = self.rows(
            "SELECT (SELECT count(*) FROM assets) a, (SELECT count(*) FROM assets WHERE status='indexed') i,"
            " (SELECT count(*) FROM files) f, (SELECT count(*) FROM scenes) s, (SELECT count(*) FROM relations) r"
        )[0]
        return {"assets": row["a"], "indexed": row["i"], "files": row["f"], "scenes": row["s"], "relations": row["r"]}

    def text_search(self, query: str, limit: int = 50) -> list[tuple[str, float]]:
        """FTS5 over names, paths and metadata; bm25 ranks (lower is better, returned negated)."""
        match = fts_match(query)
        if match is None:
            return []
        rows = self.rows(
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
        rows = self.rows("SELECT * FROM scenes WHERE asset_id = ? ORDER BY idx", (asset_id,))
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
        rows = self.rows("SELECT * FROM relations WHERE asset_id = ?1 OR other_id = ?1 ORDER BY score DESC", (asset_id,))
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
        return [(r["id"], r["owner"]) for r in self.rows("SELECT id, owner FROM jobs WHERE status IN ('queued', 'running')")]

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
        rows = self.rows("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return self._job(rows[0]) if rows else None

    def jobs(self, limit: int = 20) -> list[Job]:
        return [self._job(r) for r in self.rows("SELECT * FROM jobs ORDER BY created_at DESC LIMIT ?", (limit,))]

    def _job(self, r: sqlite3.Row) -> Job:
        errs = self.rows("SELECT path, stage, reason FROM errors WHERE job_id = ? ORDER BY id", (r["id"],))
        return Job(id=r["id"], kind=r["kind"], status=r["status"], total=r["total"], done=r["done"],
                   failed=r["failed"], created_at=r["created_at"], finished_at=r["finished_at"],
                   detail=json.loads(r["detail"]), errors=[ErrorRecord(**dict(e)) for e in errs])

    def record_scan(self, root: str, report_json: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO scans(id, root, started_at, report) VALUES (?,?,?,?)",
                       (uuid.uuid4().hex[:12], root, now().isoformat(), report_json))


def fts_match(query: str) -> str | None:
    """An FTS5 MATCH expression for the words of `query` (any of them, as prefixes); None when it
    has no words. The text is never FTS syntax: each word is quoted."""
    terms = [t for t in "".join(c if c.isalnum() else " " for c in query).split() if t]
    return " OR ".join(f'"{t}"*' for t in terms) if terms else None


def _asset(r: sqlite3.Row) -> Asset:
    return Asset(
        id=r["id"], path=r["path"], name=r["name"], kind=r["kind"], content_hash=r["content_hash"], size=r["size"],
        mtime=r["mtime"], status=r["status"], info=MediaInfo.model_validate_json(r["info"]) if r["info"] else None,
        levels=json.loads(r["levels"] or "{}"), encoder=r["encoder"], poster=r["poster"], error=r["error"],
        added_at=r["added_at"], indexed_at=r["indexed_at"],
        damaged=json.loads(r["damaged"]) if "damaged" in r.keys() and r["damaged"] else [],
    )
