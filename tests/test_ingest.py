"""Ingest on Ray Data: L0 at once, L1 frames, L2 scenes, L3 links; idempotent; bad input
becomes error records while the rest of the batch is indexed."""

import shutil

import numpy as np
import pytest
from conftest import make_settings
from test_encoders import degrade

from dam.encoders.builtin import BuiltinEncoder
from dam.library import Library
from dam.media.photo import read_image
from dam.search import Filters


def asset(lib, path):
    a = lib.asset(str(path))
    assert a is not None, path
    return a


def test_every_good_file_is_indexed(indexed, media):
    lib, report = indexed
    assert report.errors == [] and report.failed == 0
    kinds = sorted(a.kind for a in lib.catalog.assets())
    assert kinds == ["audio", "image", "video", "video", "video", "video"]
    assert all(a.status == "indexed" for a in lib.catalog.assets())


def test_levels_are_stored_in_catalog_and_chroma(indexed, media):
    lib, _ = indexed
    a = asset(lib, media["shots"])
    duration = a.info.duration
    assert a.levels["L0"] == 1 and a.levels["L2"] == len(media["truth"]) + 1
    assert a.levels["L1"] >= int(duration)  # 1 fps plus keyframes
    assert len(lib.store.ids_of("l1", lib.key, a.id)) == a.levels["L1"]
    assert len(lib.store.ids_of("l2", lib.key, a.id)) == a.levels["L2"]
    assert lib.store.ids_of("l0", lib.key, a.id) == [f"{a.id}:l0:0"]
    assert a.poster and open(a.poster, "rb").read(3) == b"\xff\xd8\xff"


def test_scenes_match_the_known_cuts(indexed, media):
    lib, _ = indexed
    scenes = lib.scenes(str(media["shots"]))
    for want, s in zip(media["truth"], scenes[1:]):
        if want.kind == "cut":
            assert s.transition == "cut" and abs(s.start_frame - want.start) <= 1
        else:
            assert s.transition == "gradual" and want.start - 2 <= s.start_frame <= want.end + 2
    for s in scenes:
        assert s.start <= s.hero_time < s.end
        assert s.thumbnail and open(s.thumbnail, "rb").read(3) == b"\xff\xd8\xff"


def test_near_duplicate_copy_is_linked(indexed, media):
    lib, _ = indexed
    a, copy = asset(lib, media["shots"]), asset(lib, media["copy"])
    links = {(r.kind, r.other_id) for r in lib.catalog.relations(a.id)}
    assert ("near_duplicate", copy.id) in links
    other = asset(lib, media["other"])
    assert ("near_duplicate", other.id) not in links


def test_similar_scenes_across_assets(indexed, media):
    lib, _ = indexed
    a, other = asset(lib, media["shots"]), asset(lib, media["other"])
    rel = [r for r in lib.catalog.relations(other.id) if r.kind == "similar_scene" and r.other_id == a.id]
    assert rel, "both videos contain a colour-bars shot"


def test_degraded_still_finds_its_source_moment(indexed, media):
    lib, _ = indexed
    from dam.media.decode import decode_frames

    (frame,), _ = decode_frames(media["shots"], [int(7.6 * 25)], (480, 270))  # inside the mandelbrot shot
    hits = lib.search(image=degrade(frame), limit=5, filters=Filters(kind="video"))
    assert hits[0].path in (str(media["shots"]), str(media["copy"]))
    top = next(h for h in hits if h.path == str(media["shots"]))
    assert top.start <= 7.6 <= top.end


def test_photo_is_searchable_like_a_frame(indexed, media):
    lib, _ = indexed
    hits = lib.search(image=read_image(media["still"])[0], limit=3, filters=Filters(kind="image"))
    assert hits and hits[0].path == str(media["still"])


def test_text_search_on_names_and_filters(indexed, media):
    lib, _ = indexed
    hits = lib.search(text="tone", limit=5)
    assert hits[0].path.endswith("tone.wav")
    assert all(h.path.endswith(".wav") for h in lib.search(text="tone", filters=Filters(kind="audio")))
    assert lib.search(text="shots", filters=Filters(min_duration=1000)) == []
    hd = lib.search(text="shots copy", filters=Filters(min_height=270))
    assert all("copy" not in h.path for h in hd)  # the 320x180 copy is filtered out


def test_one_long_video_does_not_flood_results(indexed, media):
    lib, _ = indexed
    hits = lib.search(image=read_image(media["still"])[0], limit=10)
    paths = [h.path for h in hits]
    assert len(paths) == len(set(paths))


def test_reingest_unchanged_changes_nothing(media, ray_cluster, tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    shutil.copy(media["other"], folder / "other.mp4")
    lib = Library(make_settings(tmp_path))
    first = lib.ingest([folder], implicit_root=True)
    assert first.indexed == 1
    a = asset(lib, folder / "other.mp4")
    ids = lib.store.ids_of("l1", lib.key, a.id)
    again = lib.ingest([folder], implicit_root=True)
    assert (again.indexed, again.unchanged) == (0, 1)
    assert lib.store.ids_of("l1", lib.key, a.id) == ids
    # The file changes on disk: it is re-indexed and the old asset's vectors are removed.
    shutil.copy(media["copy"], folder / "other.mp4")
    changed = lib.ingest([folder], implicit_root=True)
    assert changed.indexed == 1
    b = asset(lib, folder / "other.mp4")
    assert b.id != a.id
    assert lib.store.ids_of("l1", lib.key, a.id) == [] and lib.catalog.asset(a.id) is None
    assert lib.store.count("l0", lib.key) == 1


def test_bad_inputs_are_reported_and_nothing_is_lost(media, ray_cluster, tmp_path):
    folder = tmp_path / "mixed"
    shutil.copytree(media["bad"], folder)
    shutil.copy(media["other"], folder / "good.mp4")
    (folder / "loop").symlink_to(folder)
    lib = Library(make_settings(tmp_path))
    report = lib.ingest([folder, tmp_path / "does-not-exist"], implicit_root=True)
    bad = {e.path.rsplit("/", 1)[-1]: e.reason for e in report.errors}
    assert set(bad) == {"empty.mp4", "notes.mp4", "random.mov", "truncated.mp4", "truncated_tail.mp4", "does-not-exist"}
    assert "empty" in bad["empty.mp4"]
    # A file that ends early is indexed for what decodes and says which seconds it lost.
    for cut in ("truncated.mp4", "truncated_tail.mp4"):
        assert bad[cut].startswith("damaged: ") and "the rest is indexed" in bad[cut]
        tail = asset(lib, folder / cut)
        assert tail.status == "indexed" and tail.levels["L1"] > 0 and tail.damaged
        assert tail.damaged[-1][1] == pytest.approx(tail.info.duration, abs=0.2)  # lost up to its end
    good = asset(lib, folder / "good.mp4")
    assert good.status == "indexed" and good.levels["L2"] == 3 and good.damaged == []
    assert asset(lib, folder / "audio_only.m4a").kind == "audio"
    job = lib.catalog.job(report.job)
    assert report.damaged == 2 and report.failed == 4
    assert job.status == "done" and job.failed == 4 and len(job.errors) == 6


def test_paths_outside_media_roots_are_refused(media, ray_cluster, tmp_path):
    lib = Library(make_settings(tmp_path, media_roots=[media["good"]]))
    report = lib.ingest([media["bad"] / "empty.mp4", media["good"] / ".." / "bad"])
    assert report.indexed == 0 and {e.stage for e in report.errors} == {"paths"}


def test_changing_encoder_reindexes_into_a_new_space(media, ray_cluster, tmp_path):
    from test_encoders import write_tiny_clip

    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy(media["other"], folder / "clip.mp4")
    Library(make_settings(tmp_path, encoder="builtin")).ingest([folder], implicit_root=True, levels="L0")
    cfg, ckpt = write_tiny_clip(tmp_path)
    lib = Library(make_settings(tmp_path, encoder="clip", clip_model=str(cfg), clip_checkpoint=str(ckpt)))
    report = lib.ingest([folder], implicit_root=True, levels="L2")
    a = asset(lib, folder / "clip.mp4")
    assert report.indexed == 1 and a.encoder == lib.key and lib.key.startswith("clip-")
    _, vecs, _ = lib.store.vectors_of("l1", lib.key, a.id)
    assert vecs.shape[1] == 32 and np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-4)
    assert lib.store.ids_of("l0", BuiltinEncoder.key, a.id) == []  # the old space no longer holds it
    assert lib.search(text="gradients")  # text→visual search works with a CLIP space
    import torch

    saved = torch.load(ckpt)
    loaded = lib.image_encoder.model.state_dict()
    assert all(torch.equal(saved[k], loaded[k].cpu()) for k in saved)  # the checkpoint's weights, not random ones


def test_a_failing_shard_flows_through_the_pipeline_as_an_error_row(media, ray_cluster, settings):
    from dam.datasets.pipeline import run_shards
    from dam.datasets.shards import plan_shards
    from dam.library import Library

    lib = Library(settings)
    lib.ingest([media["other"]], implicit_root=True, levels="L0")
    good = plan_shards(lib.asset(str(media["other"])), 60)[0]
    past_end = {**good, "shard": 1, "start": 10_000, "end": 11_000}
    lies = {**good, "shard": 2, "expected_frames": 10 * good["expected_frames"]}  # header promises more
    rows = {r["shard"]: r for r in run_shards(settings, [good, past_end, lies])}
    assert rows[0]["error"] == "" and len(rows[0]["vectors"]) == len(rows[0]["index"]) > 0
    assert len(rows[0]["lost"]) == 0
    # Past the end: nothing to decode and nothing lost (the header promised nothing there).
    assert rows[1]["error"] == "" and len(rows[1]["index"]) == 0 and len(rows[1]["lost"]) == 0
    # A header that promises more than the file holds: what decodes comes back, the rest is lost.
    real_end = good["expected_frames"]
    assert rows[2]["error"] == "" and len(rows[2]["index"]) == len(rows[0]["index"])
    assert [list(r) for r in rows[2]["lost"]] == [[real_end, good["end"]]]
    assert set(rows[1]) == set(rows[0]) == set(rows[2])  # one row shape, damaged or not


def test_gpu_decoding_on_a_cluster_without_gpus_is_refused_with_the_fix(ray_cluster, tmp_path):
    from dam.runtime.start import gpu_decode

    with pytest.raises(RuntimeError, match="DAM_DECODE_DEVICE=cpu"):
        gpu_decode(make_settings(tmp_path, decode_device="cuda"))
    assert not gpu_decode(make_settings(tmp_path, decode_device="auto"))
