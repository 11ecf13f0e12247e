"""Library workflow commands as a user runs them: backup/restore, workflow files, albums, ratings."""

from __future__ import annotations

import json
import shutil

import pytest
from test_cli import dam

from dam.catalog import Catalog
from dam.config import Settings


@pytest.fixture(scope="module")
def lib(media, tmp_path_factory):
    root = tmp_path_factory.mktemp("libcli")
    footage = root / "Footage"
    footage.mkdir()
    shutil.copy2(media["other"], footage / "beach take 1.mp4")
    shutil.copy2(media["still"], footage / "bars still.jpg")
    data = root / "data"
    dam("ingest", str(footage), "--levels", "L0", "--json", data=data)
    return {"root": root, "footage": footage, "data": data}


def test_backup_dry_run_backup_verify_restore(lib):
    dest = lib["root"] / "Backups" / "nas"
    plan = json.loads(dam("backup", "--to", str(dest), "--dry-run", "--json", data=lib["data"]).stdout)
    assert plan["dry_run"] and plan["copied"] >= 3 and not dest.exists()
    done = json.loads(dam("backup", "--to", str(dest), "--json", data=lib["data"]).stdout)
    assert done["failed"] == 0 and done["copied"] == plan["copied"] and done["job"]
    jobs = json.loads(dam("jobs", "--json", data=lib["data"]).stdout)
    assert any(j["id"] == done["job"] and j["kind"] == "backup" and j["status"] == "done" for j in jobs)
    checked = json.loads(dam("backup", "--to", str(dest), "--verify", "--json", data=lib["data"]).stdout)
    assert checked["checked"] == done["copied"] and checked["errors"] == []
    r = dam("restore", "--from", str(dest), data=lib["data"], check=False)
    assert r.returncode == 1 and "already holds a library" in r.stderr  # never over a live library
    restored = json.loads(dam("restore", "--from", str(dest), "--json", data=lib["root"] / "fresh").stdout)
    assert restored["failed"] == 0 and restored["skipped"] == 2  # both originals are still in place
    info = json.loads(dam("info", str(lib["footage"] / "beach take 1.mp4"), "--json", data=lib["root"] / "fresh").stdout)
    assert info["kind"] == "video"


def assets_in(data) -> int:
    catalog = Catalog(Settings(data_dir=data).catalog_path)
    try:
        return catalog.counts()["assets"]
    finally:
        catalog.close()


def write(path, data):
    path.write_text(json.dumps(data))
    return path


def test_workflow_with_a_bad_step_runs_nothing(lib):
    before = json.loads(dam("jobs", "--json", "--limit", "1000", data=lib["data"]).stdout)
    wf = write(lib["root"] / "bad.json", {"workflow": [
        {"action": "sync_album", "root": str(lib["footage"]), "album": "Trip"},
        {"action": "scan", "root": str(lib["root"] / "nowhere")},
        {"action": "explode"},
        {"action": "backup"},
    ]})
    r = dam("workflow", str(wf), "--json", data=lib["data"], check=False)
    assert r.returncode == 2
    detail = json.loads(r.stdout)["detail"]
    assert any(d.startswith("workflow.2") and "explode" in d for d in detail)
    assert any(d.startswith("workflow.3") and "backup_root" in d for d in detail)
    after = json.loads(dam("jobs", "--json", "--limit", "1000", data=lib["data"]).stdout)
    assert len(after) == len(before)  # nothing ran
    r = dam("workflow", str(write(lib["root"] / "bad2.json", {"workflow": [
        {"action": "scan", "root": str(lib["root"] / "nowhere")}]})), data=lib["data"], check=False)
    assert r.returncode == 2 and "not a folder" in r.stderr
    assert not (lib["data"] / "albums").exists()


def test_workflow_runs_each_step_as_a_job(lib):
    dest = lib["root"] / "wf-backup"
    arrivals = lib["root"] / "Arrivals"
    arrivals.mkdir()
    shutil.copy2(lib["footage"] / "bars still.jpg", arrivals / "card still.jpg")
    (arrivals / "card still.jpg").write_bytes((arrivals / "card still.jpg").read_bytes() + b"new card")
    wf = write(lib["root"] / "wf.json", {"workflow": [
        {"action": "sync_album", "root": str(lib["footage"]), "album": "Trip", "category": "2026", "mode": "link"},
        {"action": "scan", "root": str(lib["footage"])},
        {"action": "ingest", "paths": [str(arrivals)], "levels": "L0"},
        {"action": "export", "format": "xmp", "album": "Trip", "name": "trip-sidecars"},
        {"action": "backup", "backup_root": str(dest)},
        {"action": "stats"},
    ]})
    report = json.loads(dam("workflow", str(wf), "--json", data=lib["data"]).stdout)
    assert report["status"] == "done" and [s["status"] for s in report["steps"]] == ["done"] * 6
    album = report["steps"][0]["result"]
    assert album["members"] == 2 and album["added"] == 2
    folder = lib["data"] / "albums" / "2026" / "Trip"
    assert (folder / "beach take 1.mp4").read_bytes() == (lib["footage"] / "beach take 1.mp4").read_bytes()
    ingested = report["steps"][2]["result"]
    assert ingested["indexed"] == 1 and ingested["failed"] == 0
    info = json.loads(dam("info", str(arrivals / "card still.jpg"), "--json", data=lib["data"]).stdout)
    assert info["levels"]["L0"] == 1
    sidecars = sorted(p.name for p in (lib["data"] / "exports" / "trip-sidecars").rglob("*.xmp"))
    assert len(sidecars) == 2 and len(report["steps"][3]["result"]["files"]) == 2
    assert report["steps"][4]["result"]["copied"] > 0 and (dest / "manifest.jsonl").exists()
    assert not (dest / "data" / "albums").exists()  # album folders are rebuilt from the catalog, not backed up
    assert report["steps"][5]["result"]["albums"] == 1 and report["steps"][5]["result"]["assets"] == 3
    jobs = {j["id"]: j for j in json.loads(dam("jobs", "--json", "--limit", "100", data=lib["data"]).stdout)}
    assert jobs[report["job"]]["kind"] == "workflow" and jobs[report["job"]]["done"] == 6
    assert all(jobs[s["job"]]["status"] == "done" for s in report["steps"])


def test_album_resync_follows_the_folder_and_ratings(lib, tmp_path):
    footage = tmp_path / "Shoot"
    (footage / "day2").mkdir(parents=True)
    shutil.copy2(lib["footage"] / "bars still.jpg", footage / "a.jpg")
    shutil.copy2(lib["footage"] / "bars still.jpg", footage / "day2" / "a.jpg")  # same name, other folder
    r = json.loads(dam("sync-album", str(footage), "Shoot", "--mode", "copy", "--json", data=lib["data"]).stdout)
    folder = lib["data"] / "albums" / "Shoot"
    assert r["members"] == 2 and (folder / "a.jpg").is_file() and (folder / "day2" / "a.jpg").is_file()
    (footage / "day2" / "a.jpg").unlink()
    r = json.loads(dam("sync-album", str(footage), "Shoot", "--mode", "copy", "--json", data=lib["data"]).stdout)
    assert r["members"] == 1 and r["removed"] == 1 and not (folder / "day2").exists()
    r = dam("sync-album", str(footage), "../escape", data=lib["data"], check=False)
    assert r.returncode == 2 and "album" in r.stderr
    rated = json.loads(dam("rate", str(lib["footage"] / "bars still.jpg"), "--stars", "4", "--pick", "--json",
                           data=lib["data"]).stdout)
    assert rated["rating"] == 4 and rated["flag"] == "pick"
    rated = json.loads(dam("rate", str(lib["footage"] / "bars still.jpg"), "--reject", "--json", data=lib["data"]).stdout)
    assert rated["rating"] == 4 and rated["flag"] == "reject"
    assert dam("rate", "nope", "--stars", "1", data=lib["data"], check=False).returncode == 4


def test_export_command_formats_and_errors(lib):
    out = lib["root"] / "exports"
    r = json.loads(dam("export", "xmp", "--out", str(out / "xmp"), "--json", data=lib["data"]).stdout)
    everything = assets_in(lib["data"])  # no selection: the whole library
    assert r["assets"] == len(r["files"]) == everything >= 2 and r["errors"] == []
    r = json.loads(dam("export", "pond5", str(lib["footage"] / "bars still.jpg"), "--out", str(out / "p5"), "--json",
                       data=lib["data"]).stdout)
    assert r["assets"] == 1 and (out / "p5" / "pond5.csv").read_text().startswith("originalfilename,title")
    r = json.loads(dam("export", "edl", "--out", str(out / "edl"), "--json", data=lib["data"]).stdout)
    assert r["files"][0].endswith("beach take 1.edl")  # L0 only: the whole clip is one event
    assert dam("export", "gif", "--out", str(out), data=lib["data"], check=False).returncode == 2
    assert dam("export", "xmp", "nope", "--out", str(out), data=lib["data"], check=False).returncode == 4
    wf = write(lib["root"] / "wf-export.json", {"workflow": [
        {"action": "export", "format": "vtt", "name": "subs"},
        {"action": "export", "format": "xmp", "album": "No Such Album"}]})
    r = dam("workflow", str(wf), "--json", data=lib["data"], check=False)
    assert r.returncode == 2 and "No Such Album" in r.stdout
    wf = write(lib["root"] / "wf-export2.json", {"workflow": [{"action": "export", "format": "vtt", "name": "subs"}]})
    report = json.loads(dam("workflow", str(wf), "--json", data=lib["data"]).stdout)
    assert (lib["data"] / "exports" / "subs" / "beach take 1.vtt").read_text().startswith("WEBVTT")
    assert report["steps"][0]["status"] == "done"
