
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
