"""The HTTP API against a real local Ray Serve app: every route, auth, hostile paths, limits."""

import json
import time

import pytest
from conftest import AUTH, TOKEN, wait_for_job


@pytest.fixture(scope="session")
def ingested(server):
    c = server["client"]
    t0 = time.monotonic()
    r = c.post("/api/embedding/videos/ingest", json={"path": str(server["root"] / "good" / "shots.mp4")}, headers=AUTH)
    fast = time.monotonic() - t0
    assert r.status_code == 202, r.text
    seed = r.json()
    batch = c.post("/ingest", json={"paths": [str(server["root"] / "good")]}, headers=AUTH)
    assert batch.status_code == 202, batch.text
    jobs = [wait_for_job(c, seed["job"]), wait_for_job(c, batch.json()["job"])]
    return {"seed": seed, "fast_seconds": fast, "batch": batch.json(), "jobs": jobs}


def test_health_stats_paths(server):
    c = server["client"]
    assert c.get("/healthz").json() == {"status": "ok"}
    stats = c.get("/stats").json()
    assert {"assets", "indexed", "scenes", "vectors", "encoder"} <= set(stats)
    assert c.get("/paths").json()["roots"] == [{"path": str(server["root"]), "exists": True}]


def test_the_ingress_replica_itself_answers_on_the_port(server):
    """No proxy process between the client and the API: `dam serve` binds its port in the `Api`
    replica (Serve's direct ingress), one hop less on every request."""
    import psutil

    port = server["settings"].port
    listeners = {c.pid for c in psutil.net_connections("tcp") if c.status == "LISTEN" and c.laddr.port == port}
    assert [" ".join(psutil.Process(p).cmdline()).strip() for p in listeners] == ["ray::ServeReplica:dam:Api"]
    assert server["client"].get("/healthz").json() == {"status": "ok"}


def test_seed_ingest_returns_l0_at_once_and_finishes_in_background(ingested):
    seed = ingested["seed"]
    assert seed["uuid"] and seed["levels"] == {"L0": 1} and seed["job"]
    assert all(j["status"] == "done" for j in ingested["jobs"])


def test_a_bad_file_in_a_batch_is_reported_and_the_batch_finishes(ingested):
    job = ingested["jobs"][1]
    assert job["status"] == "done"
    assert [e["path"].rsplit("/", 1)[-1] for e in job["errors"]] == ["notes.mp4"]
    assert job["done"] == job["total"] - 1


def test_jobs_batches_and_live_events(server, ingested):
    c = server["client"]
    ids = {j["id"] for j in c.get("/jobs").json()}
    assert {ingested["seed"]["job"], ingested["batch"]["job"]} <= ids
    assert all(j["kind"] == "ingest" for j in c.get("/batches").json())
    with c.stream("GET", f"/jobs/{ingested['seed']['job']}/events") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    assert events[-1]["status"] == "done"
    assert c.get("/jobs/no-such-job/status").json() == {"error": "not_found", "detail": "no job 'no-such-job'"}
    assert c.get("/jobs/no-such-job/status").status_code == 404


def test_search_finds_the_ingested_moment(server, ingested):
    c = server["client"]
    hits = c.get("/search", params={"q": "shots copy small", "limit": 5}).json()["hits"]
    assert hits[0]["path"].endswith("shots_copy_small.mp4")
    with open(server["root"] / "good" / "still_bars.jpg", "rb") as f:
        r = c.post("/search/image", files={"file": ("q.jpg", f, "image/jpeg")}, params={"type": "video"},
                   headers=AUTH)
    hits = r.json()["hits"]
    assert hits[0]["path"].endswith(("shots.mp4", "shots_copy_small.mp4")) and hits[0]["start"] <= 4.5 <= hits[0]["end"]
    assert c.get(hits[0]["thumbnail"]).headers["content-type"] == "image/jpeg"


def test_assets_scenes_thumbnails_and_range_streaming(server, ingested):
    c = server["client"]
    aid = ingested["seed"]["uuid"]
    a = c.get(f"/assets/{aid}").json()
    assert a["id"] == aid and a["status"] == "indexed" and len(a["scenes"]) == 6  # six shots
    scenes = c.get(f"/assets/{aid}/scenes").json()
    assert scenes == a["scenes"]
    thumb = c.get(scenes[2]["thumbnail"])
    assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff"
    assert c.get(a["poster"]).content[:3] == b"\xff\xd8\xff"
    part = c.get(f"/assets/{aid}/media", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and len(part.content) == 100
    assert part.headers["content-range"].startswith("bytes 100-199/")
    assert [x["id"] for x in c.get("/assets").json()]
    assert c.get("/assets/0000000000000000").status_code == 404


def test_mutating_routes_need_the_token(server):
    c = server["client"]
    body = {"paths": [str(server["root"] / "good" / "tone.wav")]}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        r = c.post("/ingest", json=body, headers=headers)
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    assert c.post("/scan", params={"dir": str(server["root"])}).status_code == 401
    assert c.post("/ingest", json=body, headers=AUTH).status_code == 202
    assert c.get("/stats", headers={"Authorization": ""}).status_code == 401  # reads too (tests/test_access.py)


def test_token_is_not_required_when_none_is_configured():
    from dam.config import Settings
    from dam.serve.guard import refuse

    scope = {"type": "http", "method": "POST", "path": "/ingest", "headers": [(b"host", b"127.0.0.1:8000")]}
    assert refuse(scope, Settings(api_token=None)) is None
    assert refuse(scope, Settings(api_token="t")).status_code == 401


@pytest.mark.parametrize("path", ["{root}/../outside/secret.mp4", "/etc/passwd", "{root}/escape/secret.mp4",
                                  "{root}/good/../../outside", "~no-such-user-here/clip.mp4", "{root}/good/\x00.mp4"])
def test_paths_outside_the_roots_are_forbidden(server, path):
    c = server["client"]
    p = path.format(root=server["root"])
    r = c.post("/ingest", json={"paths": [p]}, headers=AUTH)
    assert r.status_code == 403 and r.json()["error"] == "path_not_allowed"
    r = c.post("/api/embedding/videos/ingest", json={"path": p}, headers=AUTH)
    assert r.status_code == 403


def test_a_symlink_out_of_the_root_is_not_followed_by_a_folder_ingest(server):
    c = server["client"]
    r = c.post("/ingest", json={"paths": [str(server["root"])], "levels": "L0"}, headers=AUTH)
    assert r.status_code == 202
    assert not any("secret.mp4" in a["path"] for a in r.json()["assets"])
    assert any(e["path"].endswith("escape/secret.mp4") and e["stage"] == "paths" for e in r.json()["errors"])
    wait_for_job(c, r.json()["job"])


def test_relative_paths_are_relative_to_the_first_root(server):
    c = server["client"]
    r = c.post("/ingest", json={"paths": ["good/tone.wav"], "levels": "L0"}, headers=AUTH)
    assert r.status_code == 202 and r.json()["assets"][0]["path"] == str(server["root"] / "good" / "tone.wav")
    assert c.post("/ingest", json={"paths": ["../outside"]}, headers=AUTH).status_code == 403


def test_encoded_traversal_in_a_query_string(server):
    c = server["client"]
    r = c.post(f"/scan?dir={server['root']}/%2e%2e/outside", headers=AUTH)
    assert r.status_code == 403
    r = c.post("/scan", params={"dir": str(server["root"] / "good")}, headers=AUTH)
    assert r.status_code == 200 and r.json()["seen"] >= 5
    r = c.post("/scan", params={"dir": str(server["root"])}, headers=AUTH)  # holds the escaping symlink
    assert [e["path"].rsplit("/", 2)[-2:] for e in r.json()["errors"]] == [["escape", "secret.mp4"]]


def test_malformed_and_oversized_requests(server):
    c = server["client"]
    r = c.post("/ingest", content=b"{not json", headers={**AUTH, "content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"
    r = c.post("/ingest", json={"paths": []}, headers=AUTH)
    assert r.status_code == 422
    r = c.get("/search", params={"q": "x", "limit": 100000})
    assert r.status_code == 422
    big = b"\xff\xd8\xff" + b"0" * (1 << 20) * 2
    r = c.post("/search/image", files={"file": ("big.jpg", big, "image/jpeg")}, headers=AUTH)
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    r = c.post("/upload", files={"files": ("big.mp4", big, "video/mp4")}, headers=AUTH)
    assert r.status_code == 413
    assert not any((server["root"] / "uploads").glob("*big*"))  # nothing half-written is left
    r = c.post("/search/image", files={"file": ("x.jpg", b"not a picture", "image/jpeg")}, headers=AUTH)
    assert r.status_code == 422 and r.json()["error"] == "unreadable_image"


def test_upload_with_a_hostile_name_stays_in_its_folder(server, media):
    c = server["client"]
    data = media["still"].read_bytes()
    r = c.post("/upload", files={"files": ("../../evil; rm -rf ~.jpg", data, "image/jpeg")}, headers=AUTH)
    assert r.status_code == 202, r.text
    (saved,) = [a["path"] for a in r.json()["assets"]]
    assert saved.startswith(str(server["root"] / "uploads") + "/") and ".." not in saved
    wait_for_job(c, r.json()["job"])
