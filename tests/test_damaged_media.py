"""A card dump as it comes: damaged, truncated and lying files mixed with good ones. Every good
file is indexed, every bad one is salvaged or reported with its reason, and nothing is lost."""

import json
import random
import shutil

import pytest
from test_cli import dam

from dam.damage import build

BAD_PER_BATCH = 36  # of the ~70 cases, seeded: every run tries the same files, CI stays short


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    root = tmp_path_factory.mktemp("card")
    sources, cases = build(root / "corpus", seed=17)
    picked = random.Random(3).sample(cases, BAD_PER_BATCH)
    dump = root / "DCIM"
    dump.mkdir()
    for name, path in sources.items():
        shutil.copy(path, dump / f"good_{name}")
    for case in picked:
        shutil.copy(case.path, dump / case.path.name)
    data = root / "data"
    first = dam("ingest", str(dump), "--json", data=data, check=False)
    return {"dump": dump, "data": data, "sources": sources, "picked": picked, "first": first}


def _by_name(report: dict) -> tuple[dict, dict]:
    assets = {a["path"].rsplit("/", 1)[-1]: a for a in report["assets"]}
    errors = {e["path"].rsplit("/", 1)[-1]: e for e in report["errors"]}
    return assets, errors


def test_the_batch_finishes_with_the_partial_exit_code_and_json(card):
    r = card["first"]
    assert r.returncode == 3, r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    json.loads(r.stdout)  # stdout is the report, nothing else


def test_every_good_file_is_indexed(card):
    assets, errors = _by_name(json.loads(card["first"].stdout))
    for name in card["sources"]:
        got = assets[f"good_{name}"]
        assert f"good_{name}" not in errors, errors.get(f"good_{name}")
        if name.endswith((".mp4", ".mov", ".mkv", ".ts")):
            assert got["kind"] == "video" and got["levels"]["L1"] >= 4 and got["levels"]["L2"] >= 1, got
        else:
            assert got["levels"].get("L0") == 1, got


def test_every_bad_file_is_salvaged_or_reported_with_a_reason(card):
    report = json.loads(card["first"].stdout)
    assets, errors = _by_name(report)
    for case in card["picked"]:
        name = case.path.name
        error, got = errors.get(name), assets.get(name)
        assert error or (got and got["levels"].get("L0") == 1), f"{name} ({case.damage}): neither indexed nor reported"
        if error:
            assert len(error["reason"]) > 10 and "Traceback" not in error["reason"], error
        if error and error["stage"] == "damaged":  # salvaged: indexed for what decodes
            assert got["levels"]["L1"] >= 1 and "could not be decoded" in error["reason"], (name, got, error)
    assert report["damaged"] == sum(e["stage"] == "damaged" for e in report["errors"]) > 0
    assert report["failed"] == len({e["path"] for e in report["errors"] if e["stage"] != "damaged"})


def test_a_damaged_file_says_which_seconds_it_lost(card):
    assets, errors = _by_name(json.loads(card["first"].stdout))
    name = next(n for n, e in errors.items() if e["stage"] == "damaged")
    info = json.loads(dam("info", str(card["dump"] / name), "--json", data=card["data"]).stdout)
    lost = info["asset"]["damaged"] if "asset" in info else info["damaged"]
    assert lost and all(0 <= a < b for a, b in lost)


def test_the_library_is_consistent_and_a_second_run_changes_nothing(card):
    check = dam("check", "--json", data=card["data"], check=False)
    assert check.returncode == 0, check.stdout[-3000:]
    assert json.loads(check.stdout)["pending"] == []
    first = json.loads(card["first"].stdout)
    again = dam("ingest", str(card["dump"]), "--json", data=card["data"], check=False)
    assert again.returncode in (0, 3), again.stderr[-2000:]
    second = json.loads(again.stdout)
    assert second["indexed"] == 0 and second["damaged"] == 0
    failed = {e["path"] for e in first["errors"] if e["stage"] != "damaged"}
    assert {e["path"] for e in second["errors"]} == failed  # the same files, the same answer


def test_over_http_a_damaged_file_is_salvaged_and_the_job_finishes(server, media, tmp_path):
    from conftest import AUTH, wait_for_job

    folder = server["root"] / "card_http"
    folder.mkdir()
    data = bytearray(media["shots"].read_bytes())
    mid = len(data) // 2
    data[mid : mid + 8192] = random.Random(8).randbytes(8192)  # a failing card's bad block
    (folder / "bad_block.mp4").write_bytes(bytes(data))
    shutil.copy(media["other"], folder / "fine.mp4")
    c = server["client"]
    r = c.post("/ingest", json={"paths": [str(folder)]}, headers=AUTH)
    assert r.status_code == 202, r.text
    job = wait_for_job(c, r.json()["job"])
    assert job["status"] == "done" and job["failed"] == 0, job
    [damage] = job["errors"]
    assert damage["stage"] == "damaged" and damage["path"].endswith("bad_block.mp4")
    ids = {a["path"].rsplit("/", 1)[-1]: a["uuid"] for a in r.json()["assets"]}
    hurt = c.get(f"/assets/{ids['bad_block.mp4']}").json()
    hurt = hurt.get("asset", hurt)
    assert hurt["status"] == "indexed" and hurt["damaged"] and hurt["levels"]["L1"] > 0
    fine = c.get(f"/assets/{ids['fine.mp4']}").json()
    assert fine.get("asset", fine)["status"] == "indexed"
