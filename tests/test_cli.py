"""The `dam` command as a user runs it: JSON output, progress on stderr, meaningful exit codes."""

import json
import os
import shutil
import subprocess
import sys

import pytest


def dam(*args, data, check=True, cwd=None):
    env = {**os.environ, "DAM_DATA_DIR": str(data)}
    r = subprocess.run([sys.executable, "-m", "dam.cli", *args], capture_output=True, text=True, env=env, cwd=cwd,
                       timeout=600)
    if check and r.returncode not in (0,):
        raise AssertionError(f"dam {' '.join(args)} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


@pytest.fixture(scope="module")
def library(media, tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    footage = root / "Footage; rm -rf ~"  # a hostile folder name never reaches a shell
    footage.mkdir()
    shutil.copy(media["other"], footage / "Sunset Beach 'take 2'.mp4")
    shutil.copy(media["still"], footage / "bars still.jpg")
    shutil.copy(media["bad"] / "notes.mp4", footage / "notes.mp4")
    data = root / "data"
    r = dam("ingest", str(footage), "--json", data=data, check=False)
    return {"footage": footage, "data": data, "ingest": r}


def test_ingest_reports_json_and_partial_exit_code(library):
    r = library["ingest"]
    assert r.returncode == 3, r.stderr  # finished, one file could not be processed
    report = json.loads(r.stdout)
    assert report["indexed"] == 2 and report["failed"] == 1
    assert report["errors"][0]["path"].endswith("notes.mp4")
    assert {a["kind"] for a in report["assets"]} == {"video", "image"}


def test_scan_again_is_unchanged(library):
    r = dam("scan", str(library["footage"]), "--json", data=library["data"], check=False)
    report = json.loads(r.stdout)
    assert report["unchanged"] == 2 and report["new"] == 0 and report["skipped"] == 1


def test_search_text_and_image(library, media):
    hits = json.loads(dam("search", "sunset beach", "--json", data=library["data"]).stdout)
    assert hits[0]["path"].endswith("Sunset Beach 'take 2'.mp4")
    assert {"asset_id", "path", "start", "end", "score", "level", "thumbnail"} <= set(hits[0])
    hits = json.loads(dam("search", "--image", str(media["still"]), "--limit", "1", "--json", data=library["data"]).stdout)
    assert len(hits) == 1 and hits[0]["path"].endswith("bars still.jpg")
    table = dam("search", "sunset", data=library["data"]).stdout
    assert "Sunset Beach" in table


def test_info_scenes_jobs(library):
    video = str(library["footage"] / "Sunset Beach 'take 2'.mp4")
    info = json.loads(dam("info", video, "--json", data=library["data"]).stdout)
    assert info["kind"] == "video" and info["status"] == "indexed" and len(info["scenes"]) == 3
    assert "h264" in dam("info", info["id"][:8], data=library["data"]).stdout
    scenes = json.loads(dam("scenes", video, "--json", data=library["data"]).stdout)
    assert [s["transition"] for s in scenes] == ["start", "cut", "cut"]
    jobs = json.loads(dam("jobs", "--json", data=library["data"]).stdout)
    assert jobs[0]["kind"] == "ingest" and jobs[0]["failed"] == 1


def test_usage_and_not_found_exit_codes(library, tmp_path):
    assert dam("search", data=library["data"], check=False).returncode == 2
    assert dam("search", "x", "--limit", "0", data=library["data"], check=False).returncode == 2
    missing = dam("info", "no-such-asset", data=library["data"], check=False)
    assert missing.returncode == 4 and "no asset" in missing.stderr
    assert dam("scan", str(tmp_path / "unplugged"), data=library["data"], check=False).returncode == 1
    bad_env = subprocess.run([sys.executable, "-m", "dam.cli", "jobs"], capture_output=True, text=True,
                             env={**os.environ, "DAM_SAMPLE_FPS": "-3"})
    assert bad_env.returncode == 2 and "sample_fps" in bad_env.stderr


def test_serve_on_a_taken_port_says_so_at_once(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = dam("serve", "--port", str(port), "--root", str(tmp_path), data=tmp_path / "data", check=False)
    assert r.returncode == 1 and f"127.0.0.1:{port} is in use" in r.stderr, r.stderr


def test_demo_is_the_whole_loop(tmp_path):
    """The README's main command: sample footage, ingest, text and image search."""
    r = dam("demo", "--query", "sunset beach", data=tmp_path / "data", cwd=tmp_path)
    assert sorted(p.name for p in (tmp_path / "dam-samples").iterdir()) == [
        "city_walk_A001.mp4", "studio_interview_C003.mp4", "sunset_beach_B002.mp4"]
    assert "ingested 3 new" in r.stdout
    text_results = r.stdout.split("dam search 'sunset beach'")[1].split("dam search --image")[0]
    first_row = next(line for line in text_results.splitlines() if line.startswith("1 "))
    assert "sunset_beach_B002" in first_row
    image_results = r.stdout.split("dam search --image")[1]
    assert "1  " in image_results and "no matches" not in image_results


def test_a_killed_ingest_is_shown_interrupted_not_running_forever(library, tmp_path):
    import signal
    import sqlite3
    import time

    from dam.catalog import Catalog
    from dam.config import Settings

    data = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-m", "dam.cli", "ingest", str(library["footage"])],
                            env={**os.environ, "DAM_DATA_DIR": str(data)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def started() -> bool:
        try:
            return bool(Catalog(Settings(data_dir=data).catalog_path, readonly=True).jobs(1))
        except sqlite3.Error:  # not created yet
            return False

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not started():
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL
    jobs = json.loads(dam("jobs", "--json", data=data).stdout)
    assert [j["status"] for j in jobs] == ["interrupted"] and "run it again" in jobs[0]["detail"]["note"]
    assert jobs[0]["finished_at"]
