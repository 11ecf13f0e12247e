"""Exports carry what dam already found: sync offsets place the cameras on the Blender timeline,
stored motion tracks become its Empties, and transcript sections and motion intervals become
markers in the XMP sidecar and the NLE timeline — with no caller gathering them by hand."""

from __future__ import annotations

import subprocess

import pytest
from audio_fixtures import CAMS, shoot  # noqa: F401
from test_blender import script_data

from dam.audio import speech
from dam.audio.multicam import sync
from dam.config import Settings
from dam.library import Library
from dam.library_ops.exports import export, select
from dam.motion.stage import analyse_assets


def mux(video_args: list[str], audio, out):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *video_args, "-i", str(audio), "-map", "0:v", "-map", "1:a",
                    "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def shoot_library(shoot, motion_media, tmp_path_factory, ray_cluster):  # noqa: F811
    root = tmp_path_factory.mktemp("two cameras")
    wide = mux(["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25"], shoot["a"], root / "A001 wide.mp4")
    close = mux(["-stream_loop", "-1", "-i", str(motion_media["objects"])], shoot["b"], root / "B001 close.mp4")
    lib = Library(Settings(data_dir=root / "data", media_roots=[root]))
    group, _ = sync(lib, [wide, close])
    assert group.reference == str(wide) and all(r.matched for r in group.results)
    ids = {a.name: a.id for a in select(lib)}
    analyse_assets(lib, [ids["B001 close.mp4"]])
    speech.store(lib, ids["B001 close.mp4"], speech.transcribe_file(lib.settings, str(close)))
    yield lib, ids
    lib.close()


def test_blender_scene_places_cameras_at_their_sync_offsets_with_stored_tracks(shoot_library, tmp_path):
    lib, ids = shoot_library
    report = export(lib, "blender", select(lib), tmp_path)
    assert report.errors == []
    data = script_data(tmp_path / "scene.py")
    offsets = {c["name"]: c["offset"] for c in data["clips"]}
    assert offsets["A001 wide.mp4"] == 0.0
    assert abs(offsets["B001 close.mp4"] - CAMS["b"].start) < 0.005
    close = next(c for c in data["clips"] if c["name"] == "B001 close.mp4")
    assert close["motion"] and all(0 <= x <= 1 and 0 <= y <= 1 for samples in close["motion"].values()
                                   for _, x, y in samples)
    assert list((tmp_path / "motion").glob("B001_close-track_*.csv"))


def test_sidecar_and_timeline_carry_transcript_and_motion_markers(shoot_library, tmp_path):
    lib, ids = shoot_library
    close = lib.catalog.asset(ids["B001 close.mp4"])
    title = speech.transcript_of(lib, close.id).sections[0].title
    export(lib, "xmp", [close], tmp_path)
    xmp = (tmp_path / "B001 close.xmp").read_text()
    assert "<xmpDM:trackName>Transcript</xmpDM:trackName>" in xmp and f"<xmpDM:name>{title[:80]}</xmpDM:name>" in xmp
    assert "<xmpDM:trackName>Motion</xmpDM:trackName>" in xmp
    export(lib, "otio", [close], tmp_path)
    otio = (tmp_path / "B001 close.otio").read_text()
    assert title in otio and "motion" in otio
    given = export(lib, "otio", [close], tmp_path / "given", transcripts={close.id: []}, motion={close.id: []})
    assert title not in open(given.files[0]).read()  # what the caller passes still wins
