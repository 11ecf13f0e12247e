"""XMP sidecars that exiftool reads back, and stock-site CSVs in their published layouts."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import numpy as np
import pytest

from dam.library_ops.describe import describe, rank_tags, words_of
from dam.library_ops.exports import export, select
from dam.library_ops.stock import LAYOUTS, stock_csv
from dam.library_ops.xmp import write_sidecar

pytestmark = pytest.mark.skipif(not shutil.which("exiftool"), reason="exiftool (libimage-exiftool-perl) not installed")


def exiftool(path):
    r = subprocess.run(["exiftool", "-j", "-struct", str(path)], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)[0]


def test_rank_tags_keeps_only_what_stands_out():
    tags = ["beach", "city", "forest", "snow"]
    vecs = np.eye(4, dtype=np.float32)
    asset = np.array([0.9, 0.1, 0.0, 0.42], np.float32)
    assert rank_tags(asset, vecs, tags, k=3) == ["beach", "snow"]
    assert words_of("MVI_0042 Sunset-Beach_take 2.final") == ["sunset", "beach", "final"]


def test_sidecar_fields_read_back_with_exiftool(indexed, tmp_path):
    lib, _ = indexed
    a = lib.asset(str(next(p for p in (x["path"] for x in _assets(lib)) if p.endswith("shots.mp4"))))
    scenes = lib.catalog.scenes(a.id)
    m = describe(a, scenes, visual_tags=["sunset", "beach"], rating=3, flag="reject",
                 transcript=[(1.0, 2.5, "welcome to the beach"), (4.0, 6.0, "the sun is setting")],
                 motion=[(3.0, 5.0, "pan left")])
    got = exiftool(write_sidecar(m, tmp_path / "shots.xmp"))
    assert got["Title"] == "Sunset, shots" and got["Description"].startswith("Sunset, beach. 480x270 video at 25 fps")
    assert got["Subject"][:2] == ["sunset", "beach"] and "beach" in got["Subject"] and "welcome" in got["Subject"]
    assert got["Rating"] == -1  # a reject, as the XMP spec writes it
    assert got["ModifyDate"][:4].isdigit()
    tracks = {t["TrackName"]: t for t in got["Tracks"]}
    assert set(tracks) == {"Shots", "Transcript", "Motion"}
    shots = tracks["Shots"]["Markers"]
    assert len(shots) == len(scenes) == 6 and tracks["Shots"]["FrameRate"] == "f25"
    assert [mk["StartTime"] for mk in shots] == [round(s.start * 25) for s in scenes]
    assert tracks["Transcript"]["Markers"][1] == {"Comment": "the sun is setting", "Duration": 50,
                                                 "Name": "the sun is setting", "StartTime": 100}
    # A sidecar another tool wrote is never overwritten.
    foreign = tmp_path / "foreign.xmp"
    foreign.write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    with pytest.raises(FileExistsError):
        write_sidecar(m, foreign)


def _assets(lib):
    return [a.model_dump() for a in lib.catalog.assets(limit=100)]


def test_export_xmp_and_stock_csvs_for_the_library(indexed, tmp_path):
    lib, _ = indexed
    chosen = select(lib)
    report = export(lib, "xmp", chosen, tmp_path / "xmp")
    assert report.errors == [] and len(report.files) == len(chosen)
    odd = next(f for f in report.files if "quoted" in f)
    assert exiftool(odd)["Title"] == "Quoted rm rf"  # generic words ("clip") and one-letter words dropped
    for site, layout in LAYOUTS.items():
        r = export(lib, site, chosen, tmp_path / site)
        rows = list(csv.reader(io.StringIO((tmp_path / site / f"{site}.csv").read_text())))
        assert tuple(rows[0]) == layout.header and len(rows) == len(chosen) + 1
        by_name = {row[0]: row for row in rows[1:]}
        assert "clip ü 'quoted' ; rm -rf.mp4" in by_name  # quoting survives hostile names
        kw_col = layout.header.index("Keywords" if "Keywords" in layout.header else "keywords")
        shots = by_name["shots.mp4"][kw_col].split(", ")
        assert "shots" in shots and "video" in shots and len(shots) <= layout.max_keywords
        assert all(len(row[1]) <= layout.title_max for row in rows[1:])
        assert r.warnings == [w for w in r.warnings if "wants at least" in w]


def test_stock_titles_are_cut_at_a_word():
    from datetime import datetime

    from dam.library_ops.describe import AssetMetadata

    m = AssetMetadata(asset_id="x", path="/a/b.mp4", name="b.mp4", kind="video", title="word " * 30,
                      description="d", keywords=[f"k{i}" for i in range(60)], modified=datetime.now())
    text, warnings = stock_csv("pond5", [m])
    row = list(csv.reader(io.StringIO(text)))[1]
    assert len(row[1]) <= 80 and row[1].endswith("word") and len(row[3].split(", ")) == 50 and not warnings
