"""Enrichment on generated footage with known properties: real ffmpeg, espeak-ng speech,
pocketsphinx transcripts, a real photo of a person (scikit-image's astronaut) for faces, the real
catalog and the real CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import skimage

from dam.config import Settings
from dam.enrich.run import enrich_assets, make_sources
from dam.enrich.store import view
from dam.schema import Scene


def ff(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    from dam.audio import speech
    from dam.library import Library

    root = tmp_path_factory.mktemp("enrich")
    clips = root / "clips"
    clips.mkdir()
    ff("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=2", "-vf", "lutyuv=y=val*0.15",
       "-pix_fmt", "yuv420p", str(clips / "a.mp4"))  # dark
    ff("-f", "lavfi", "-i", "color=c=red:size=320x180:rate=25:duration=2", "-vf", "noise=alls=20:allf=t",
       "-pix_fmt", "yuv420p", str(clips / "b.mp4"))  # red
    ff("-f", "lavfi", "-i", "testsrc2=size=180x320:rate=30:duration=2", "-pix_fmt", "yuv420p", str(clips / "c.mp4"))
    subprocess.run(["espeak-ng", "-w", str(root / "say.wav"), "the weather today is sunny and warm in the mountains"],
                   check=True)
    ff("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-i", str(root / "say.wav"), "-shortest",
       "-pix_fmt", "yuv420p", "-c:a", "aac", str(clips / "d.mp4"))  # speech
    ff("-f", "lavfi", "-i", "color=c=red:size=320x180:rate=25:duration=2", "-f", "lavfi", "-i",
       "color=c=blue:size=320x180:rate=25:duration=2", "-filter_complex", "[0][1]concat=n=2:v=1:a=0,noise=alls=20:allf=t",
       "-pix_fmt", "yuv420p", str(clips / "e.mp4"))  # two shots: red, then blue
    photo = os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png")  # one face at [177,66,95,95]
    ff("-loop", "1", "-i", photo, "-t", "2", "-r", "25", "-vf", "scale=640:640,crop=640:360:0:'min(40,t*20)'",
       "-pix_fmt", "yuv420p", str(clips / "f.mp4"))  # a person, the camera tilting down
    ff("-i", photo, "-q:v", "3", str(clips / "g.jpg"))  # the same person as a still
    library = Library(Settings(data_dir=root / "data"))
    library.ingest([clips], implicit_root=True, levels="L0")
    ids = {a.name: a.id for a in library.catalog.assets()}
    talk = library.catalog.asset(ids["d.mp4"])
    speech.store(library, talk.id, speech.transcribe_file(library.settings, talk.path))
    library.catalog.replace_scenes(ids["e.mp4"], [  # the shots as generated (L0 ingest finds none)
        Scene(asset_id=ids["e.mp4"], index=0, start=0.0, end=2.0, start_frame=0, end_frame=50, transition="start"),
        Scene(asset_id=ids["e.mp4"], index=1, start=2.0, end=4.0, start_frame=50, end_frame=100)])
    assert enrich_assets(library, library.catalog.assets()) == []
    library.ids = {"dark": ids["a.mp4"], "red": ids["b.mp4"], "vertical": ids["c.mp4"], "talk": ids["d.mp4"],
                   "shots": ids["e.mp4"], "person": ids["f.mp4"], "portrait": ids["g.jpg"]}
    library.root = root
    yield library
    library.close()


def names(lib, key, facet=None):
    return {lb.name for lb in view(lib.catalog, lib.ids[key]).labels if facet is None or lb.facet == facet}


def test_known_properties_get_expected_labels(lib):
    assert "low light" in names(lib, "dark", "light")
    assert "red" in names(lib, "red", "colour") and "low light" not in names(lib, "red")
    assert names(lib, "vertical", "orientation") == {"vertical"} and names(lib, "red", "orientation") == {"horizontal"}
    assert names(lib, "vertical", "frame rate") == {"30 fps"} and names(lib, "vertical", "codec") == {"h.264"}
    assert names(lib, "red", "audio") == {"no sound"} and names(lib, "talk", "audio") == {"speech"}
    said = " ".join(s.text for s in __import__("dam.audio.store", fromlist=["x"]).transcript_of(lib, lib.ids["talk"]).segments)
    kws = {lb.name for lb in view(lib.catalog, lib.ids["talk"]).labels if lb.source == "speech" and lb.facet == "tag"}
    assert kws and kws <= set(re.findall(r"[a-z']+", said.lower()))
    for key in lib.ids:
        v = view(lib.catalog, lib.ids[key])
        assert all(lb.source and 0 <= lb.confidence <= 1 for lb in v.labels)
        assert "motion" in v.skipped and "faces" not in v.skipped  # no motion timeline stored: said, not guessed


def test_faces_found_with_opencvs_own_detector_data(lib):
    for key in ("person", "portrait"):
        assert "face" in names(lib, key) and names(lib, key, "people") == {"one person"}
        assert "a person" in view(lib.catalog, lib.ids[key]).description
    assert view(lib.catalog, lib.ids["portrait"]).description.startswith("Square SD still image of a person")
    for key in ("dark", "red", "vertical", "talk", "shots"):  # testsrc patterns and colour fields
        assert "face" not in names(lib, key) and names(lib, key, "people") <= {"no people"}
        assert "person" not in view(lib.catalog, lib.ids[key]).description


def test_each_shot_gets_its_own_labels_and_is_found_as_a_moment(lib):
    v = view(lib.catalog, lib.ids["shots"])
    assert {"red", "blue"} <= {lb.name for lb in v.labels if lb.facet == "colour"}
    assert "red" in {lb.name for lb in v.scenes[0]} and "blue" not in {lb.name for lb in v.scenes[0]}
    assert "blue" in {lb.name for lb in v.scenes[1]} and "red" not in {lb.name for lb in v.scenes[1]}
    assert names(lib, "shots", "pace") == {"moderate pace"}  # one cut in 4 s: 15 a minute
    hit = next(h for h in lib.search("blue") if h.asset_id == lib.ids["shots"])
    assert (hit.start, hit.end) == (2.0, 4.0)


def test_descriptions_state_only_what_was_detected(lib):
    red = view(lib.catalog, lib.ids["red"]).description
    assert "red tones" in red and "No sound" in red and "night" not in red and "dialogue" not in red
    assert view(lib.catalog, lib.ids["dark"]).description.startswith("SD video footage") and \
        "low light" in view(lib.catalog, lib.ids["dark"]).description
    assert view(lib.catalog, lib.ids["vertical"]).description.startswith("Vertical SD video footage")
    assert "spoken dialogue" in view(lib.catalog, lib.ids["talk"]).description
    assert "red" not in view(lib.catalog, lib.ids["vertical"]).description


def dam(*args, lib):
    env = {**os.environ, "DAM_DATA_DIR": str(lib.settings.data_dir)}
    return subprocess.run([sys.executable, "-m", "dam.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_user_edits_survive_reenrichment_and_are_searchable(lib):
    red = lib.ids["red"]
    r = dam("tag", red, "--add", "Holiday Mood", "--remove", "red", "--description", "A red wall.", "--json", lib=lib)
    assert r.returncode == 0, r.stderr
    r = dam("enrich", red, "--json", lib=lib)
    assert r.returncode == 0, r.stderr
    v = view(lib.catalog, red)
    assert v.description == "A red wall." and v.description_edited
    got = {lb.name: lb for lb in v.labels}
    assert got["holiday mood"].origin == "user" and "red" not in got and "h.264" in got
    assert v.keywords[0] == "holiday mood"
    assert lib.search("holiday")[0].asset_id == red
    # The dark clip (low light throughout) and the one dark shot of another clip tie; the shot,
    # a more specific moment, comes first (dam.search.fuse).
    first, second = lib.search("low light")[:2]
    assert (first.asset_id, second.asset_id) == (lib.ids["shots"], lib.ids["dark"]) and first.start is not None
    from dam.cli import EXIT_NOT_FOUND

    assert dam("tag", "no-such-asset", lib=lib).returncode == EXIT_NOT_FOUND


def test_stock_metadata_uses_enrichment(lib):
    from dam.library_ops.describe import describe_asset

    m = describe_asset(lib, lib.catalog.asset(lib.ids["vertical"]))
    assert "vertical" in m.keywords[:10] and m.description == view(lib.catalog, lib.ids["vertical"]).description


def test_corrupt_file_reports_and_keeps_previous_enrichment(lib, tmp_path):
    a = lib.catalog.asset(lib.ids["dark"])
    bad = tmp_path / "bad.mp4"
    data = open(a.path, "rb").read()
    bad.write_bytes(data[: len(data) // 4])
    before = view(lib.catalog, a.id)
    failed = enrich_assets(lib, [a.model_copy(update={"path": str(bad)})])
    assert len(failed) == 1 and "decode" in failed[0][1]
    assert view(lib.catalog, a.id) == before


def test_clip_zero_shot_with_user_vocabulary(tmp_path, lib):
    from test_encoders import write_tiny_clip

    from dam.enrich.clip import Clip
    from dam.enrich.faces import Faces
    from dam.enrich.model import Context, SourceSkipped
    from dam.enrich.run import sample_frames

    cfg, ckpt = write_tiny_clip(tmp_path)
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("# studio words\nred carpet\ngreen screen\n")
    s = Settings(encoder="clip", clip_model=str(cfg), clip_checkpoint=str(ckpt), enrich_vocabulary=str(vocab))
    src = Clip(s)
    assert {"red carpet", "green screen", "beach"} <= set(src.words)
    a = lib.catalog.asset(lib.ids["red"])
    labels = src.labels(Context(asset=a, frames=sample_frames(a, 4)[0]))
    assert labels and all(lb.source == "clip" and lb.name in src.words and 0 < lb.confidence <= 1 for lb in labels)
    assert "clip" not in make_sources(s)[1] and "clip" in make_sources(Settings())[1]
    with pytest.raises(SourceSkipped, match="not found"):
        Clip(s.model_copy(update={"enrich_vocabulary": str(tmp_path / "missing.txt")}))
    with pytest.raises(SourceSkipped, match="not found"):
        Faces(str(tmp_path / "missing.onnx"))


def test_http_tag_routes(server):
    from conftest import AUTH, wait_for_job

    c = server["client"]
    r = c.post("/ingest", json={"paths": [str(server["root"] / "good" / "other.mp4")], "levels": "L0"},
               headers=AUTH)
    assert r.status_code == 202, r.text
    wait_for_job(c, r.json()["job"])  # L0: done at once
    aid = r.json()["assets"][0]["uuid"]
    assert c.post("/enrich", json={"assets": [aid]}).status_code == 401
    r = c.post("/enrich", json={"assets": [aid]}, headers=AUTH)
    assert r.status_code == 200 and r.json()["enriched"] == 1, r.text
    assert c.post("/enrich", json={"assets": ["nope"]}, headers=AUTH).status_code == 404
    tags = c.get(f"/assets/{aid}/tags").json()
    assert tags["description"] and any(lb["facet"] == "resolution" for lb in tags["labels"])
    assert c.post(f"/assets/{aid}/tags", json={"add": ["client x"]}).status_code == 401
    r = c.post(f"/assets/{aid}/tags", json={"add": ["client x"], "description": "Edited."}, headers=AUTH)
    assert r.status_code == 200 and r.json()["description"] == "Edited."
    c.post("/enrich", json={"assets": [aid]}, headers=AUTH)
    again = c.get(f"/assets/{aid}/tags").json()
    assert again["description"] == "Edited." and "client x" in {lb["name"] for lb in again["labels"]}
    assert c.get("/assets/nope/tags").status_code == 404
    r = c.post("/publish", json={"target": "nope", "dry_run": True})
    assert r.status_code == 401
    r = c.post("/publish", json={"target": "nope", "dry_run": True}, headers=AUTH)
    assert r.status_code == 422 and r.json()["error"] == "publish_config" and "nope" in r.json()["detail"]


def test_the_actor_pool_path_matches_in_process(lib, ray_cluster):
    """The ingest stage (DAM_ENRICH_ON_INGEST) runs the same sources in a pool of Ray actors."""
    chosen = [lib.catalog.asset(lib.ids[k]) for k in ("vertical", "dark", "red")]
    before = {a.id: view(lib.catalog, a.id) for a in chosen}
    assert enrich_assets(lib, chosen, use_ray=True) == []
    for a in chosen:
        after = view(lib.catalog, a.id)
        assert [(lb.facet, lb.name) for lb in after.labels] == [(lb.facet, lb.name) for lb in before[a.id].labels]
        assert after.description == before[a.id].description
