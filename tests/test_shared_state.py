"""Shared state for a cluster: Chroma as a server that may restart under an ingest, and the
catalog behind one writer actor. Real `chroma run`, real Ray, real ffmpeg-made media."""

from __future__ import annotations

import shutil
import threading
import time

import chromadb
import pytest
import ray
from chroma_server import ChromaServer
from conftest import free_port, make_settings

from dam.library import Library
from dam.store import StoreUnavailable


@pytest.fixture
def chroma(tmp_path):
    server = ChromaServer(tmp_path / "chroma-server", free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def footage(media, tmp_path):
    folder = tmp_path / "footage"
    folder.mkdir()
    for name in ("shots", "other"):
        shutil.copy(media[name], folder / f"{name}.mp4")
    return folder


def wait_until(fn, timeout: float = 120, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or fn}")


def stage_of(lib: Library) -> dict:
    jobs = lib.catalog.jobs(1)
    return jobs[0].detail if jobs else {}


def assert_catalog_and_chroma_agree(lib: Library, url: str) -> None:
    """Asked of the server directly (not through dam): every indexed asset has exactly its
    vectors — one L0, one per L1 frame, one per kept shot, one text document — and nothing
    else is in any collection."""
    client = chromadb.HttpClient(host="127.0.0.1", port=int(url.rsplit(":", 1)[1]))
    cols = {c.name: client.get_collection(c.name) for c in client.list_collections()}
    visual = {lvl: cols[f"{lvl}-{lib.key}"] for lvl in ("l0", "l1", "l2")}
    assets = lib.catalog.assets()
    assert assets and all(a.status == "indexed" for a in assets), [(a.name, a.status, a.error) for a in assets]
    expected_total = {name: 0 for name in cols}
    for a in assets:
        got = {lvl: col.get(where={"asset_id": a.id}, include=[])["ids"] for lvl, col in visual.items()}
        text = cols[f"text-{lib.text_encoder_key}"].get(where={"asset_id": a.id}, include=[])["ids"]
        assert got["l0"] == [f"{a.id}:l0:0"] and text == [f"{a.id}:text:0"]
        assert len(got["l1"]) == len(set(got["l1"])) == a.levels["L1"] > 0
        assert all(i.startswith(f"{a.id}:l1:") for i in got["l1"])
        assert 0 < len(got["l2"]) <= a.levels["L2"] == len(lib.catalog.scenes(a.id))
        for lvl, ids in got.items():
            expected_total[visual[lvl].name] += len(ids)
        expected_total[f"text-{lib.text_encoder_key}"] += 1
    assert {name: col.count() for name, col in cols.items()} == expected_total  # no strays, no duplicates


def test_an_ingest_waits_for_a_restarted_chroma_server_and_loses_nothing(chroma, footage, ray_cluster, tmp_path):
    lib = Library(make_settings(tmp_path, chroma_url=chroma.url, chroma_retry_seconds=120))
    out: dict = {}
    worker = threading.Thread(target=lambda: out.update(report=lib.ingest([footage], implicit_root=True)))
    worker.start()
    wait_until(lambda: stage_of(lib).get("stage", "").startswith("L1/L2"), what="the L1/L2 stage")
    chroma.stop()
    note = wait_until(lambda: stage_of(lib).get("waiting"), what="the job to say it waits")
    assert note.startswith(f"waiting for the Chroma server at {chroma.url}")
    time.sleep(2)  # still down for a while: the writes keep waiting, nothing fails
    assert worker.is_alive() and lib.catalog.jobs(1)[0].status == "running"
    chroma.start()
    worker.join(240)
    report = out["report"]
    assert report.errors == [] and report.indexed == 2
    job = lib.catalog.job(report.job)
    assert job.status == "done" and "waiting" not in job.detail
    assert_catalog_and_chroma_agree(lib, chroma.url)


def test_chroma_down_past_the_limit_fails_the_job_clearly_and_a_resubmit_finishes_it(chroma, media, ray_cluster,
                                                                                        tmp_path):
    footage = tmp_path / "one"
    footage.mkdir()
    shutil.copy(media["other"], footage / "other.mp4")
    lib = Library(make_settings(tmp_path, chroma_url=chroma.url, chroma_retry_seconds=3))
    out: dict = {}

    def ingest() -> None:
        try:
            lib.ingest([footage], implicit_root=True)
        except StoreUnavailable as e:
            out["error"] = e

    worker = threading.Thread(target=ingest)
    worker.start()
    wait_until(lambda: stage_of(lib).get("stage", "").startswith("L1/L2"), what="the L1/L2 stage")
    chroma.stop()
    worker.join(120)
    assert f"the Chroma server at {chroma.url} was unreachable for" in str(out["error"])
    assert lib.catalog.jobs(1)[0].status == "failed"
    chroma.start()
    again = lib.ingest([footage], implicit_root=True)  # the resubmit
    assert again.errors == [] and again.indexed == 1
    assert_catalog_and_chroma_agree(lib, chroma.url)


def test_the_catalog_actor_is_the_one_writer_on_the_head_and_keeps_its_data_across_a_restart(ray_cluster, tmp_path):
    from dam.runtime.catalog_actor import RemoteCatalog, actor_name
    from dam.schema import ErrorRecord

    settings = make_settings(tmp_path, catalog="actor")
    lib = Library(settings)
    cat = lib.catalog
    assert isinstance(cat, RemoteCatalog)
    head = next(n["NodeID"] for n in ray.nodes() if n["Alive"] and "node:__internal_head__" in n["Resources"])
    assert cat.where() == {"node_id": head, "path": str(settings.catalog_path)}
    job = cat.start_job("ingest")
    cat.record_error(job, ErrorRecord(path="/x.mp4", reason="broken", stage="probe"))
    with cat.transaction() as db:  # a real transaction: reads see its writes, rowcount works
        db.execute("INSERT INTO ratings(asset_id, rating, updated_at) VALUES ('a1', 3, 'now')")
        assert db.execute("UPDATE ratings SET rating = 5 WHERE asset_id = 'a1'").rowcount == 1
        assert [dict(r) for r in db.execute("SELECT asset_id, rating FROM ratings")] == [{"asset_id": "a1", "rating": 5}]
    with pytest.raises(KeyError), cat.transaction() as db:
        db.execute("DELETE FROM ratings")
        raise KeyError("an error inside the block rolls the transaction back")
    assert cat.rows("SELECT rating FROM ratings")[0]["rating"] == 5
    ray.kill(ray.get_actor(actor_name(settings.catalog_path), namespace="dam"), no_restart=False)
    again = wait_until(lambda: _alive_job(cat, job), timeout=60, what="the restarted catalog actor")
    assert again.errors[0].reason == "broken" and cat.rows("SELECT rating FROM ratings")[0]["rating"] == 5


def _alive_job(cat, job_id):
    try:
        return cat.job(job_id)
    except ray.exceptions.RayActorError:
        return None
