"""Backfills from an object store: a real S3 API (moto's server) on 127.0.0.1, read through
pyarrow.fs like any s3:// bucket. Objects are staged, indexed by content, remembered by URI; a
resubmit downloads only what is new or changed, and a run stopped after staging resumes from
the staged copies."""

from __future__ import annotations

import json

import pytest
from conftest import free_port

from dam.config import Settings
from dam.consistency import check_library
from dam.datasets import backfill
from dam.library import Library
from dam.objectstore import ObjectSync, list_media
from dam.progress import TerminalProgress


@pytest.fixture(scope="module")
def s3(monkeypatch_module):
    from moto.server import ThreadedMotoServer
    from pyarrow import fs

    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                 "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch_module.setenv(k, v)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    filesystem = fs.S3FileSystem(endpoint_override=f"127.0.0.1:{port}", scheme="http", region="us-east-1",
                                 access_key="testing", secret_key="testing", allow_bucket_creation=True)
    filesystem.create_dir("footage")
    yield {"fs": filesystem, "query": f"endpoint_override=127.0.0.1:{port}&scheme=http&region=us-east-1"}
    server.stop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def put(s3, key: str, data: bytes) -> None:
    with s3["fs"].open_output_stream(f"footage/{key}") as out:
        out.write(data)


def run_backfill(uri: str, capsys) -> tuple[int, dict]:
    capsys.readouterr()
    rc = backfill.main(["--levels", "L2", "--json", uri])
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("{")][-1]
    return rc, json.loads(line)


def test_an_s3_prefix_is_staged_indexed_and_skipped_on_resubmit_without_downloading(s3, media, ray_cluster, tmp_path,
                                                                                    monkeypatch, capsys):
    monkeypatch.setenv("DAM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAM_DECODE_CONCURRENCY", "1")
    put(s3, "shoot/other.mp4", media["other"].read_bytes())
    put(s3, "shoot/stills/bars.jpg", media["still"].read_bytes())
    put(s3, "shoot/notes.txt", b"not media, never downloaded")
    uri = f"s3://footage/shoot?{s3['query']}"
    _, listed = list_media(uri)
    assert [f.uri for f in listed] == ["s3://footage/shoot/other.mp4", "s3://footage/shoot/stills/bars.jpg"]

    rc, first = run_backfill(uri, capsys)
    assert rc == 0 and first["errors"] == []
    assert (first["indexed"], first["unchanged"], first["downloaded"]) == (2, 0, 2)

    rc, again = run_backfill(uri, capsys)  # the resubmit: nothing is read from the bucket but the listing
    assert rc == 0 and (again["indexed"], again["unchanged"], again["downloaded"]) == (0, 2, 0)
    assert {a["path"] for a in again["assets"]} == {"s3://footage/shoot/other.mp4", "s3://footage/shoot/stills/bars.jpg"}

    put(s3, "shoot/stills/bars.jpg", media["still"].read_bytes() + b"\0" * 64)  # replaced: new bytes, new asset
    rc, changed = run_backfill(uri, capsys)
    assert rc == 0 and (changed["indexed"], changed["unchanged"], changed["downloaded"]) == (1, 1, 1)

    lib = Library(Settings())
    rep = check_library(lib)
    assert rep.ok, rep.problems
    assert rep.assets == rep.indexed == 2  # the replaced picture's old asset is gone with its vectors
    sources = {r["uri"]: r["asset_id"] for r in lib.catalog.rows("SELECT uri, asset_id FROM sources")}
    assert set(sources.values()) == {a.id for a in lib.catalog.assets()}
    lib.close()


def test_a_backfill_stopped_after_staging_resumes_from_the_staged_copies(s3, media, ray_cluster, tmp_path, monkeypatch,
                                                                         capsys):
    monkeypatch.setenv("DAM_DATA_DIR", str(tmp_path / "data"))
    put(s3, "resume/a.jpg", media["still"].read_bytes())
    put(s3, "resume/b.jpg", media["still"].read_bytes() + b"\0" * 32)  # other bytes: another asset
    uri = f"s3://footage/resume?{s3['query']}"
    settings = Settings()
    settings.media_roots = [settings.object_cache]
    lib = Library(settings)
    sync = ObjectSync(lib, [uri])
    staged, skipped, errors = sync.stage(TerminalProgress(False))
    assert len(staged) == 2 and sync.downloaded == 2 and not skipped and not errors
    lib.close()  # stopped here: staged, not indexed

    rc, resumed = run_backfill(uri, capsys)
    assert rc == 0 and (resumed["indexed"], resumed["downloaded"]) == (2, 0)
    lib = Library(Settings())
    assert check_library(lib).ok
    lib.close()
