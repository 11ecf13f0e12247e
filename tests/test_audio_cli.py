"""`dam sync` and `POST /sync` as users call them: Ray tasks, stored relations, JSON timeline."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from audio_fixtures import CAMS, shoot  # noqa: F401  (a fixture)
from conftest import AUTH
from test_cli import dam


def test_dam_sync_stores_relations_and_writes_a_timeline(shoot, tmp_path):  # noqa: F811
    data = tmp_path / "data"
    tl = tmp_path / "timeline.json"
    r = dam("sync", str(shoot["a"]), str(shoot["b"]), str(shoot["c"]), str(shoot["unrelated"]), "--json",
            "--timeline", str(tl), data=data, check=False)
    assert r.returncode == 3, r.stderr  # done, but one clip did not match
    out = json.loads(r.stdout)
    assert out["reference"] == str(shoot["a"])  # the longest
    by = {res["clip"]: res for res in out["results"]}
    assert abs(by[str(shoot["b"])]["offset"] - CAMS["b"].start) < 0.005
    assert not by[str(shoot["unrelated"])]["matched"]
    timeline = json.loads(tl.read_text())
    assert timeline == out["timeline"] and timeline["format"] == "dam.multicam.timeline/1"
    starts = {c["path"]: c["start"] for c in timeline["clips"]}
    assert starts[str(shoot["a"])] == 0.0 and abs(starts[str(shoot["c"])] - 25.0) < 0.005
    assert [u["path"] for u in timeline["unmatched"]] == [str(shoot["unrelated"])]
    info = json.loads(dam("info", str(shoot["b"]), "--json", data=data).stdout)
    rel = [x for x in info["relations"] if x["kind"] == "multicam"]
    assert len(rel) == 1 and rel[0]["detail"]["group"] == out["group"]
    assert abs(rel[0]["detail"]["offset"] - CAMS["b"].start) < 0.005
    ref_info = json.loads(dam("info", str(shoot["a"]), "--json", data=data).stdout)
    from_a = {x["other_id"]: x for x in ref_info["relations"] if x["kind"] == "multicam"}
    assert len(from_a) == 2  # b and c, seen from a
    # Either end says where the other clip starts on its own timeline.
    assert abs(from_a[info["id"]]["detail"]["other_starts_at"] - CAMS["b"].start) < 0.005
    assert abs(rel[0]["detail"]["other_starts_at"] + CAMS["b"].start) < 0.005
    assert "multicam" in dam("info", str(shoot["b"]), data=data).stdout


def test_dam_sync_a_folder_of_cameras(shoot, tmp_path):  # noqa: F811
    folder = tmp_path / "card dump"
    (folder / "B").mkdir(parents=True)
    shutil.copy(shoot["a"], folder / "A001.wav")
    shutil.copy(shoot["b"], folder / "B" / "B001.m4a")
    shutil.copy(shoot["c"], folder / "B" / "C001.flac")
    (folder / "notes.txt").write_text("slate 4, take 2")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=d=1:s=64x48", str(folder / "mute.mp4")],
                   check=True)
    r = dam("sync", str(folder), "--json", data=tmp_path / "data")
    out = json.loads(r.stdout)
    assert out["reference"].endswith("A001.wav") and not out["errors"]  # text and silent video are not cameras
    assert sorted(Path(x["clip"]).name for x in out["results"] if x["matched"]) == ["B001.m4a", "C001.flac"]


def test_dam_sync_usage_and_unreadable_files(shoot, tmp_path):  # noqa: F811
    assert dam("sync", str(shoot["a"]), data=tmp_path, check=False).returncode == 2
    bad = tmp_path / "bad.wav"
    bad.write_text("nope")
    r = dam("sync", str(shoot["a"]), str(bad), "--json", data=tmp_path / "d", check=False)
    assert r.returncode == 3
    assert str(bad) in json.loads(r.stdout)["errors"]


def test_http_sync(server, shoot):  # noqa: F811
    c = server["client"]
    folder = server["root"] / "shoot"
    folder.mkdir(exist_ok=True)
    for k in ("a", "b"):
        shutil.copy(shoot[k], folder / shoot[k].name)
    body = {"paths": [f"shoot/{shoot['a'].name}", f"shoot/{shoot['b'].name}"]}
    assert c.post("/sync", json=body).status_code == 401
    assert c.post("/sync", json={"paths": [body["paths"][0], str(server["outside"] / "secret.mp4")]},
                  headers=AUTH).status_code == 403
    assert c.post("/sync", json={"paths": [body["paths"][0], "shoot/nope.wav"]}, headers=AUTH).status_code == 404
    assert c.post("/sync", json={"paths": []}, headers=AUTH).status_code == 422
    r = c.post("/sync", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["results"][0]["matched"] and abs(res["results"][0]["offset"] - CAMS["b"].start) < 0.005
    clip = c.get(f"/assets/{res['timeline']['clips'][1]['asset_id']}").json()
    assert any(x["kind"] == "multicam" for x in clip["relations"])


def test_http_transcribe(server, tmp_path):
    from dam.audio.samples import SENTENCES, speak

    c = server["client"]
    folder = server["root"] / "speech"
    folder.mkdir(exist_ok=True)
    speak(SENTENCES[3], folder / "drone.wav")
    assert c.post("/transcribe", params={"path": "speech/drone.wav"}).status_code == 401
    assert c.post("/transcribe", params={"path": str(server["outside"] / "secret.mp4")},
                  headers=AUTH).status_code == 403
    assert c.post("/transcribe", params={"path": "speech/none.wav"}, headers=AUTH).status_code == 404
    r = c.post("/transcribe", params={"path": "speech/drone.wav"}, headers=AUTH)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["backend"] == "pocketsphinx" and out["segments"] and "friday" in out["segments"][-1]["text"]
    asset = c.get(f"/assets/{out['asset_id']}").json()
    assert asset["transcript"]["segments"] == out["segments"]
    hits = c.get("/search", params={"q": "city on friday"}).json()["hits"]
    assert hits[0]["asset_id"] == out["asset_id"] and hits[0]["why"].startswith("said")
