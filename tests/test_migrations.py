"""The catalog's schema migrations on libraries made by earlier releases: a catalog from before
the versioning (the release this one follows), and an older one from before jobs knew their
process and damaged files were salvaged. Each comes up to date with its rows intact, and with the
schema a new catalog has.

The previous release's tables are a frozen copy of its DDL (catalog_before_versioning.sql), not
dam.migrations' own: the features' tables moved into their stores (each store's TABLES), and a
test built from the code being tested could not see the schema change under it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dam.catalog import Catalog
from dam.migrations import MIGRATIONS
from dam.schema import MediaInfo

BEFORE_VERSIONING = (Path(__file__).parent / "catalog_before_versioning.sql").read_text()
ASSET = ("a1", "hash1", "video", "/m/a.mp4", "a.mp4", 10, 1.0, "2026-01-01T00:00:00+00:00")


def _old_catalog(path: Path, drop: dict[str, str]) -> None:
    """A catalog as an earlier release left it: user_version 0, BASE less the `drop` columns."""
    script = BEFORE_VERSIONING
    for table, column in drop.items():
        script = script.replace(f", {column} TEXT\n);", "\n);", 1) if table == "jobs" else \
            script.replace(f", indexed_at TEXT, {column} TEXT", ", indexed_at TEXT", 1)
    db = sqlite3.connect(path)
    db.executescript(script)
    db.execute("INSERT INTO assets(id, content_hash, kind, path, name, size, mtime, added_at) VALUES (?,?,?,?,?,?,?,?)",
               ASSET)
    db.execute("INSERT INTO jobs(id, kind, status, created_at) VALUES ('j1', 'ingest', 'done', '2026-01-01')")
    db.commit()
    columns = {t: {r[1] for r in db.execute(f"PRAGMA table_info({t})")} for t in ("assets", "jobs")}
    db.close()
    for table, column in drop.items():
        assert column not in columns[table]


def _version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def _schema(path: Path) -> dict[str, str]:
    db = sqlite3.connect(path)
    try:
        return {name: sql for name, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")}
    finally:
        db.close()


def test_a_new_catalog_is_at_the_last_version_and_reopens_unchanged(tmp_path):
    path = tmp_path / "catalog.sqlite"
    Catalog(path).close()
    assert _version(path) == len(MIGRATIONS)
    Catalog(path).close()
    assert _version(path) == len(MIGRATIONS)


def test_the_previous_release_catalog_is_migrated_with_its_rows(tmp_path):
    path = tmp_path / "catalog.sqlite"
    _old_catalog(path, {})
    assert _version(path) == 0
    cat = Catalog(path)
    assert _version(path) == len(MIGRATIONS)
    assert cat.asset("a1").path == "/m/a.mp4" and cat.job("j1").status == "done"
    cat.close()
    fresh = tmp_path / "fresh.sqlite"
    Catalog(fresh).close()
    assert _schema(path) == _schema(fresh)  # every table, index and FTS table, to the letter of its SQL


def test_an_older_catalog_gains_the_columns_later_releases_added(tmp_path):
    path = tmp_path / "catalog.sqlite"
    _old_catalog(path, {"jobs": "owner", "assets": "damaged"})
    cat = Catalog(path)
    a = cat.asset("a1")
    assert a.damaged == [] and a.name == "a.mp4"
    cat.set_asset("a1", damaged=[[1.0, 2.0]])
    assert cat.asset("a1").damaged == [(1.0, 2.0)]
    job = cat.start_job("scan", owner="host:1")
    assert ("j1", None) not in cat.unfinished_jobs() and (job, "host:1") in cat.unfinished_jobs()
    cat.upsert_asset("a2", "hash2", "/m/b.mp4", 5, 2.0, MediaInfo(kind="video", container="mp4", size=5))
    assert {x.id for x in cat.assets()} == {"a1", "a2"}
    cat.close()
    assert _version(path) == len(MIGRATIONS)


def test_a_catalog_from_before_remotes_gains_their_tables(tmp_path):
    """Version 4 (stems) was the last release without network shares: opening it adds `remotes` and
    `remote_files` (dam.remote.store) and keeps its rows."""
    path = tmp_path / "catalog.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:4]:
        step(db)
    db.execute("PRAGMA user_version = 4")
    db.execute("INSERT INTO assets(id, content_hash, kind, path, name, size, mtime, added_at) VALUES (?,?,?,?,?,?,?,?)",
               ASSET)
    db.close()
    cat = Catalog(path)
    assert _version(path) == len(MIGRATIONS) and cat.asset("a1").path == "/m/a.mp4"
    from dam.remote import store

    store.add(cat, "nas", "smb://nas/share", None)
    assert [r.name for r in store.all_remotes(cat)] == ["nas"] and store.pulled(cat, "nas") == {}
    cat.close()
