"""Library workflow routes: POST /backup, /workflow, /sync_album, ratings — auth, paths, jobs."""

from __future__ import annotations

from conftest import AUTH, wait_for_job


def test_backup_route_is_a_job_and_stays_inside_backup_roots(server):
    c = server["client"]
    assert c.post("/backup", json={"backup_root": "nas"}).status_code == 401
    r = c.post("/backup", json={"backup_root": str(server["outside"])}, headers=AUTH)
    assert r.status_code == 403 and r.json()["error"] == "path_not_allowed"
    r = c.post("/backup", json={"backup_root": "../escape"}, headers=AUTH)
    assert r.status_code == 403
    for hostile in ("nas\x00evil", "~nosuchuser/x"):  # found by the schema fuzzer: were 500s
        r = c.post("/backup", json={"backup_root": hostile, "dry_run": True}, headers=AUTH)
        assert r.status_code == 403 and r.json()["error"] == "path_not_allowed"
    plan = c.post("/backup", json={"backup_root": "nas", "dry_run": True}, headers=AUTH)
    assert plan.status_code == 202 and plan.json()["dry_run"] and not (server["backups"] / "nas").exists()
    r = c.post("/backup", json={"backup_root": "nas"}, headers=AUTH)
    assert r.status_code == 202
    job = wait_for_job(c, r.json()["job"])
    assert job["status"] == "done" and job["kind"] == "backup" and job["done"] == job["total"] > 0
    assert job["detail"]["copied"] > 0 and (server["backups"] / "nas" / "manifest.jsonl").exists()


def test_workflow_route_validates_first_then_runs(server):
    c = server["client"]
    good = server["root"] / "good"
    bad = {"workflow": [{"action": "scan", "root": str(good)}, {"action": "launch_rockets"}]}
    assert c.post("/workflow", json=bad).status_code == 401
    before = len(c.get("/jobs", params={"limit": 500}).json())
    r = c.post("/workflow", json=bad, headers=AUTH)
    assert r.status_code == 422 and r.json()["error"] == "invalid_workflow"
    assert any("workflow.1" in d for d in r.json()["detail"])
    r = c.post("/workflow", json={"workflow": [{"action": "scan", "root": str(server["outside"])}]}, headers=AUTH)
    assert r.status_code == 422 and "outside" in r.json()["detail"][0]
    r = c.post("/workflow", content=b"{not json", headers={**AUTH, "content-type": "application/json"})
    assert r.status_code == 422
    assert len(c.get("/jobs", params={"limit": 500}).json()) == before  # nothing ran
    wf = {"workflow": [{"action": "sync_album", "root": str(good), "album": "Good", "category": "web"},
                       {"action": "stats"}]}
    r = c.post("/workflow", json=wf, headers=AUTH)
    assert r.status_code == 202, r.text
    job = wait_for_job(c, r.json()["job"])
    assert job["status"] == "done" and job["done"] == 2
    results = job["detail"]["results"]
    assert results[0]["result"]["members"] >= 1 and results[1]["result"]["albums"] >= 1
    albums = c.get("/albums").json()
    assert any(a["name"] == "Good" and a["category"] == "web" and a["members"] >= 1 for a in albums)


def test_sync_album_and_rating_routes(server):
    c = server["client"]
    good = server["root"] / "good"
    r = c.post("/sync_album", json={"root": "good", "album": "../../x"}, headers=AUTH)
    assert r.status_code == 422
    r = c.post("/sync_album", json={"root": str(server["outside"]), "album": "x"}, headers=AUTH)
    assert r.status_code == 403
    r = c.post("/sync_album", json={"root": "good", "album": "Seed", "mode": "link"}, headers=AUTH)
    assert r.status_code == 200 and r.json()["members"] >= 1
    asset = c.get("/assets", params={"limit": 1}).json()[0]["id"]
    r = c.post(f"/assets/{asset}/rating", json={"rating": 5, "flag": "pick"}, headers=AUTH)
    assert r.status_code == 200 and r.json() == {"asset_id": asset, "rating": 5, "flag": "pick"}
    assert c.post(f"/assets/{asset}/rating", json={"rating": 9}, headers=AUTH).status_code == 422
    assert c.post("/assets/nope/rating", json={"rating": 1}, headers=AUTH).status_code == 404
    xmp = c.get(f"/assets/{asset}/sidecar.xmp")
    assert xmp.status_code == 200 and xmp.headers["content-type"].startswith("application/rdf+xml")
    assert b"<xmp:Rating>5</xmp:Rating>" in xmp.content and b"<xmp:Label>Pick</xmp:Label>" in xmp.content
    assert c.get("/assets/nope/sidecar.xmp").status_code == 404
    assert good.is_dir()
