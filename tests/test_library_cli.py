"""Library workflow commands as a user runs them: backup/restore, workflow files, albums, ratings."""

from __future__ import annotations

import json
import shutil

import pytest

from test_cli import dam


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
