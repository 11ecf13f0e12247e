"""Motion stored with the asset: `dam motion`, `dam info`, the search filter, the ingest stage,
and the HTTP routes."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys

from conftest import AUTH, make_settings

from dam.library import Library
from dam.search import Filters


def dam(*args, data):
    env = {**os.environ, "DAM_DATA_DIR": str(data)}
    return subprocess.run([sys.executable, "-m", "dam.cli", *args], capture_output=True, text=True, env=env, timeout=300)


def test_cli_motion_info_and_search(motion_media, tmp_path):
    data = tmp_path / "data"
    r = dam("motion", str(motion_media["objects"]), "--json", data=data)
    assert r.returncode == 0, r.stderr
    tl = json.loads(r.stdout)
    assert tl["asset_id"] and [(i["start"], i["end"]) for i in tl["intervals"]] == [(2.0, 5.0), (8.0, 10.5)]
    r = dam("motion", str(motion_media["flash"]), "--csv", "-", data=data)
    assert r.returncode == 0 and r.stdout.strip() == "t,track,x,y,w,h,px,py,pw,ph"  # nothing moved
    info = json.loads(dam("info", str(motion_media["objects"]), "--json", data=data).stdout)
    assert info["motion"]["has_motion"] and len(info["motion"]["intervals"]) == 2
    assert "motion    0:02.00–0:05.00, 0:08.00–0:10.50" in dam("info", info["id"], data=data).stdout
    hits = json.loads(dam("search", "--motion", "--motion-from", "9", "--json", data=data).stdout)
    assert [(h["asset_id"], h["start"], h["level"]) for h in hits] == [(info["id"], 8.0, "motion")]
    assert dam("search", "--motion", "--motion-to", "1", "--json", data=data).stdout.strip() == "[]"
    assert dam("search", data=data).returncode == 2
    assert dam("motion", str(tmp_path / "missing.mp4"), data=data).returncode == 4
    (tmp_path / "notes.mp4").write_text("not a video")
    bad = dam("motion", str(tmp_path / "notes.mp4"), data=data)
    assert bad.returncode == 1 and "notes.mp4" in bad.stderr


def test_search_filter_keeps_only_moving_footage(motion_media, tmp_path):
    lib = Library(make_settings(tmp_path))
    try:
        for name in ("objects", "ramp"):
            shutil.copy(motion_media[name], tmp_path / f"clip {name}.mp4")
            lib.motion(tmp_path / f"clip {name}.mp4", implicit_root=True)
        both = {h.path.rsplit("/", 1)[-1] for h in lib.search("clip", filters=Filters())}
        assert both == {"clip objects.mp4", "clip ramp.mp4"}
        moving = [h.path.rsplit("/", 1)[-1] for h in lib.search("clip", filters=Filters(motion=True))]
        still = [h.path.rsplit("/", 1)[-1] for h in lib.search("clip", filters=Filters(motion=False))]
        late = lib.search("clip", filters=Filters(motion_from=6, motion_to=9))
        early = lib.search("clip", filters=Filters(motion_from=5.5, motion_to=7.5))
        assert moving == ["clip objects.mp4"] and still == ["clip ramp.mp4"]
        assert [h.path.rsplit("/", 1)[-1] for h in late] == ["clip objects.mp4"] and early == []
    finally:
        lib.close()


def test_ingest_stage_stores_motion(motion_media, ray_cluster, tmp_path):
    from dam.motion.store import load

    shutil.copy(motion_media["objects"], tmp_path / "objects.mp4")
    lib = Library(make_settings(tmp_path, motion_on_ingest=True))
    try:
        report = lib.ingest([tmp_path / "objects.mp4"], implicit_root=True, levels="L2")
        assert not report.errors
        tl = load(lib.catalog, report.assets[0]["uuid"])
        assert tl is not None and [(i.start, i.end) for i in tl.intervals] == [(2.0, 5.0), (8.0, 10.5)]
    finally:
        lib.close()


def test_http_motion_extract_asset_and_search(server, motion_media):
    c = server["client"]
    shutil.copy(motion_media["objects"], server["root"] / "good" / "parking objects.mp4")
    body = {"path": "good/parking objects.mp4", "sensitivity": 0.5}
    assert c.post("/motion/extract", json=body).status_code == 401
    r = c.post("/motion/extract", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    out = r.json()
    assert [(i["start"], i["end"]) for i in out["intervals"]] == [(2.0, 5.0), (8.0, 10.5)]
    assert len(out["tracks"]) == 2 and out["frames"] and out["frames"][0]["boxes"]
    aid = out["asset_id"]
    assert c.get(f"/assets/{aid}").json()["motion"]["has_motion"] is True
    rows = list(csv.DictReader(io.StringIO(c.get(f"/assets/{aid}/motion", params={"format": "csv"}).text)))
    assert {int(r["track"]) for r in rows} == {t["id"] for t in out["tracks"]} and int(rows[0]["pw"]) > 0
    assert c.get(f"/assets/{aid}/motion", params={"format": "tracks"}).json()[0]["objects"]
    hits = c.get("/search", params={"q": "parking", "motion": "true", "motion_from": 7}).json()["hits"]
    assert [h["asset_id"] for h in hits] == [aid]
    assert c.get("/search", params={"q": "parking", "motion_from": 5.2, "motion_to": 7.8}).json()["hits"] == []
    # Bad input: outside the roots, missing, not a video, bad body.
    assert c.post("/motion/extract", json={"path": "/etc/passwd"}, headers=AUTH).status_code == 403
    assert c.post("/motion/extract", json={"path": "good/nope.mp4"}, headers=AUTH).status_code == 404
    bad = c.post("/motion/extract", json={"path": "good/notes.mp4"}, headers=AUTH)
    assert bad.status_code == 422 and bad.json()["error"] == "unreadable_media"
    assert c.post("/motion/extract", json={"path": "x", "sensitivity": 3}, headers=AUTH).status_code == 422
