"""`dam check`: catalog, vectors and files agree on a freshly indexed library, and each kind of
damage a crash or a stray writer could leave behind is found and named."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import make_settings

from dam.cli import cli
from dam.consistency import check_library
from dam.library import Library


@pytest.fixture(scope="module")
def lib(media, ray_cluster, tmp_path_factory):
    base = tmp_path_factory.mktemp("check")
    footage = base / "footage"
    footage.mkdir()
    shutil.copy(media["other"], footage / "other.mp4")
    shutil.copy(media["still"], footage / "still.jpg")
    library = Library(make_settings(base, media_roots=[footage], decode_concurrency=1))
    report = library.ingest([footage], levels="L2")
    assert report.indexed == 2 and not report.errors
    yield library
    library.close()


def dam_check(lib: Library) -> tuple[int, dict]:
    r = CliRunner().invoke(cli, ["--data-dir", str(lib.settings.data_dir), "check", "--json"])
    return r.exit_code, json.loads(r.stdout)


def test_a_freshly_indexed_library_is_consistent(lib):
    rep = check_library(lib)
    assert rep.ok, rep.problems
    assert (rep.assets, rep.indexed, rep.pending, rep.failed, rep.files) == (2, 2, [], [], 2)
    video = next(a for a in lib.catalog.assets() if a.kind == "video")
    assert rep.vectors[f"l1-{lib.key}"] == video.levels["L1"] + 1  # the video's frames and the still
    code, out = dam_check(lib)
    assert code == 0 and out["ok"] and out["problems"] == []


def test_an_orphan_a_missing_vector_a_misfiled_one_and_a_changed_file_are_each_found(lib):
    video = next(a for a in lib.catalog.assets() if a.kind == "video")
    still = next(a for a in lib.catalog.assets() if a.kind == "image")
    dim = len(lib.store.vectors_of("l0", lib.key, video.id)[1][0])
    lib.store.upsert("l1", lib.key, ["feedfacefeedface:l1:3"], np.ones((1, dim), np.float32),
                     [{"asset_id": "feedfacefeedface", "t": 0.1, "frame": 3, "scene": 0, "encoder": lib.key}])
    lib.store.upsert("l2", lib.key, [f"{still.id}:l2:0"], np.ones((1, dim), np.float32),
                     [{"asset_id": video.id, "scene": 0, "start": 0.0, "end": 1.0, "encoder": lib.key}])
    frame_ids = lib.store.ids_of("l1", lib.key, video.id)
    lib.store.delete_ids("l1", lib.key, frame_ids[:2])
    os.utime(still.path, (1.0, 1.0))

    problems = {(p.kind, p.asset_id) for p in check_library(lib).problems}
    assert problems == {
        ("orphan_vector", "feedfacefeedface"),
        ("misfiled_vector", video.id),  # an L2 vector whose id names the still...
        ("wrong_vector_count", video.id),  # ...is one more L2 vector than the video has scenes
        ("missing_vector", video.id),  # two frames fewer than the catalog's L1 count
        ("file_changed", still.id),
    }
    code, out = dam_check(lib)
    assert code == 1 and not out["ok"]
    assert {p["kind"] for p in out["problems"]} == {"orphan_vector", "misfiled_vector", "missing_vector",
                                                    "wrong_vector_count", "file_changed"}
