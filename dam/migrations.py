"""The catalog's schema as numbered migrations. SQLite's `user_version` says how many have run;
opening a catalog runs the rest, each in one write transaction (a second process opening the
same file at once waits, then finds nothing left to do). A schema change is a new entry at the
end, never an edit of an old one; tests/test_migrations.py opens a catalog made by an earlier
release and checks it comes up to date with its data intact.

Catalogs made before the versioning (user_version 0) hold some of this already: every step is
written to be a no-op where its change is there."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from importlib import import_module

# Version 1: the tables as they were when the versioning began, in the order they were made. The
# core's tables are here; a feature's are in its store (its TABLES), named by import path so that
# the catalog imports no feature. A feature's TABLES is part of version 1 and never changes: a
# change to its tables is a new migration at the end, like any other.
CORE = """
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
"""
ASSETS_FTS = """
CREATE VIRTUAL TABLE IF NOT EXISTS assets_fts USING fts5(
    asset_id UNINDEXED, name, path, meta, tokenize = "unicode61 remove_diacritics 2"
);
"""
VERSION_1 = [CORE, "dam.library_ops.store:TABLES", "dam.motion.store:TABLES", "dam.cameras.store:TABLES",
             "dam.objectstore.store:TABLES", ASSETS_FTS, "dam.audio.store:TABLES", "dam.enrich.store:TABLES"]


def _statements(script: str) -> list[str]:
    out, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            out.append(pending.strip())
            pending = ""
    return [s for s in out if s.strip(" ;\n")]


def _add_column(table: str, column: str, decl: str) -> Callable[[sqlite3.Connection], None]:
    def step(db: sqlite3.Connection) -> None:
        if column not in {r[1] for r in db.execute(f"PRAGMA table_info({table})")}:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")

    return step


def _text(part: str) -> str:
    """DDL given as itself, or as `module:NAME` of a feature's store (imported only now)."""
    if not part.lstrip().upper().startswith("CREATE"):
        module, _, name = part.partition(":")
        return getattr(import_module(module), name)
    return part


def _script(*parts: str) -> Callable[[sqlite3.Connection], None]:
    def step(db: sqlite3.Connection) -> None:
        for part in parts:
            for statement in _statements(_text(part)):
                db.execute(statement)

    return step


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _script(*VERSION_1),
    _add_column("jobs", "owner", "TEXT"),  # 2: catalogs made before jobs knew their process
    _add_column("assets", "damaged", "TEXT"),  # 3: catalogs made before damaged files were salvaged
    _script("dam.audio.store:STEMS_TABLE"),  # 4: dialogue / music stems
    _script("dam.remote.store:TABLES"),  # 5: network shares and what each sync pulled
]


def migrate(db: sqlite3.Connection) -> int:
    """Bring the catalog up to date (`db` in autocommit mode); returns its version."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for n, step in enumerate(MIGRATIONS[version:], version + 1):
            step(db)
            db.execute(f"PRAGMA user_version = {n}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return len(MIGRATIONS)
