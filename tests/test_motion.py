"""Motion on files: known intervals over noise, light changes that are not motion, pans that are
camera motion, zones/masks, tracks and exports, bad input; overlays on synthetic frames."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from dam.media.decode import DecodeError
from dam.motion import overlays
from dam.motion.analyze import analyze_file
from dam.motion.model import MotionParams
from dam.motion.synth import SCENARIOS, interval_iou
from dam.motion.timeline import tracks_csv, tracks_per_frame


def spans(tl, kind="object"):
    return [(i.start, i.end) for i in tl.intervals if i.kind == kind]


@pytest.mark.parametrize("name", ["objects", "objects_light"])
def test_moving_objects_found_in_their_intervals(motion_media, name):
    sc = SCENARIOS[name]
    tl = analyze_file(motion_media[name])
    assert interval_iou(spans(tl), sc.objects, sc.seconds) >= 0.8, tl.intervals
    assert not spans(tl, "camera")
    assert tl.has_motion
    # One track per crossing, moving left to right.
    long = [t for t in tl.tracks if t.end - t.start > 1.0]
    assert len(long) == len(sc.objects)
    for t in long:
        assert t.points[-1].box[0] > t.points[0].box[0] + 0.5
    assert all(i.tracks for i in tl.intervals)
    assert tl.seconds < sc.seconds / 3  # many times faster than real time even here


@pytest.mark.parametrize("name", ["ramp", "flash"])
def test_light_changes_are_not_motion(motion_media, name):
    tl = analyze_file(motion_media[name], MotionParams(sensitivity=0.8))
    assert tl.intervals == [] and not tl.has_motion


def test_pan_is_camera_motion(motion_media):
    sc = SCENARIOS["pan"]
    tl = analyze_file(motion_media["pan"])
    assert spans(tl) == []
    assert interval_iou(spans(tl, "camera"), sc.pans, sc.seconds) >= 0.8


def test_masks_and_zones(motion_media):
    path = motion_media["objects"]
    assert analyze_file(path, MotionParams(masks=[(0, 0, 1, 1)])).intervals == []
    # The first object crosses the upper half, the second the lower: watch the upper half only.
    top = analyze_file(path, MotionParams(zones=[(0, 0, 1, 0.45)]))
    found = spans(top)
    assert found and interval_iou(found, [SCENARIOS["objects"].objects[0]], 12) >= 0.8


def test_track_exports(motion_media):
    tl = analyze_file(motion_media["objects"])
    rows = list(csv.DictReader(io.StringIO(tracks_csv(tl.tracks, (480, 270)))))
    assert rows and set(rows[0]) == {"t", "track", "x", "y", "w", "h", "px", "py", "pw", "ph"}
    assert [float(r["t"]) for r in rows] == sorted(float(r["t"]) for r in rows)
    assert {int(r["track"]) for r in rows} == {t.id for t in tl.tracks}
    frames = tracks_per_frame(tl.tracks)
    assert sum(len(f["objects"]) for f in frames) == len(rows)
    assert all(f["objects"] and "track" in f["objects"][0] for f in frames)


def test_bad_input_is_a_clear_error(tmp_path):
    (tmp_path / "notes.mp4").write_text("not a video\n" * 10)
    (tmp_path / "empty.mp4").write_bytes(b"")
    for name in ("notes.mp4", "empty.mp4", "missing.mp4"):
        with pytest.raises(DecodeError):
            analyze_file(tmp_path / name)


def test_zebra_marks_exactly_the_pixels_over_the_threshold():
    grey = np.tile(np.arange(256, dtype=np.uint8), (64, 1))  # every level, 64 rows
    frame = np.repeat(grey[..., None], 3, axis=2)
    frame[:, 128:, 0] = 255  # a red tint on the right half moves luma a little
    expected = (0.2126 * frame[..., 0].astype(np.float64) + 0.7152 * frame[..., 1] + 0.0722 * frame[..., 2]) \
        * 100 / 255 >= 90
    mask = overlays.zebra_mask(frame, 90)
    assert np.array_equal(mask, expected)
    out = overlays.zebra(frame, 90, period=4)
    changed = np.any(out != frame, axis=2)
    assert not changed[~mask].any()  # nothing under the threshold touched
    yy, xx = np.indices(mask.shape)
    assert np.array_equal(changed, mask & (((xx + yy) % 4) < 2))  # every striped pixel over it painted


def test_false_colour_and_peaking():
    frame = np.zeros((40, 300, 3), np.uint8)
    for i, v in enumerate((0, 15, 102, 128, 240, 255)):
        frame[:, i * 50:(i + 1) * 50] = v
    fc = overlays.false_colour(frame)
    assert tuple(fc[5, 25]) == (128, 0, 128)      # 0 IRE: crushed
    assert tuple(fc[5, 125]) == (0, 160, 0)       # ~40 IRE: middle grey
    assert tuple(fc[5, 175]) == (128, 128, 128)   # ~50 IRE: its own grey
    assert tuple(fc[5, 275]) == (255, 0, 0)       # 100 IRE: clipped
    sharp = np.zeros((64, 64, 3), np.uint8)
    sharp[:, 32:] = 255
    m = overlays.peaking_mask(sharp)
    assert m[:, 30:34].any() and not m[:, :20].any() and not m[:, 44:].any()
    soft = np.repeat(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None], 64, 0).repeat(3, 2)
    assert not overlays.peaking_mask(soft).any()
    with pytest.raises(ValueError):
        overlays.apply(frame, "sepia")


def test_hostile_names_and_settings_from_the_environment(motion_media, tmp_path, monkeypatch):
    import shutil

    from dam.config import Settings

    odd = tmp_path / "-i clip ü 'quoted' ; rm -rf ~.mp4"
    shutil.copy(motion_media["objects"], odd)
    assert [(i.start, i.end) for i in analyze_file(odd).intervals] == [(2.0, 5.0), (8.0, 10.5)]
    monkeypatch.setenv("DAM_MOTION_MASKS", "0,0,1,0.45; 0,0.45,1,0.55")
    monkeypatch.setenv("DAM_MOTION_SENSITIVITY", "0.7")
    params = MotionParams.from_settings(Settings(), fps=5)
    assert params.masks == [(0, 0, 1, 0.45), (0, 0.45, 1, 0.55)] and params.sensitivity == 0.7 and params.fps == 5
    assert analyze_file(odd, params).intervals == []  # everything masked
