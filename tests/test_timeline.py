"""Timeline exports parse back with OpenTimelineIO and say what the catalog says."""

from __future__ import annotations

import re

import opentimelineio as otio

from dam.library_ops.exports import export, select
from dam.library_ops.timeline import Reel, build, cues, srt, vtt, write

REEL = Reel(path="/footage/day 1/a b.mp4", fps=25, duration=12, shots=[(0, 3), (3, 6.5), (6.5, 12)],
            transcript=[(1, 2, "hello"), (4, 5.2, "world --> there")], motion=[(7, 9, "pan")])
OTHER = Reel(path="/footage/c.mov", fps=25, duration=4, shots=[(0, 4)])


def frames(tr):
    return (tr.start_time.to_frames(), tr.duration.to_frames())


def test_otio_edl_fcpxml_round_trip():
    tl = build([REEL, OTHER])
    for fmt, adapter in (("otio", "otio_json"), ("edl", "cmx_3600"), ("fcpxml", "fcpx_xml")):
        back = otio.adapters.read_from_string(write(tl, fmt), adapter, **({"rate": 25} if fmt == "edl" else {}))
        clips = list(back.find_clips())
        assert len(clips) == 4, fmt
        assert [frames(c.source_range) for c in clips] == [(0, 75), (75, 87), (162, 138), (0, 100)], fmt
        assert back.duration().to_seconds() == 16, fmt
        markers = [(m.name.lower(), m.marked_range.start_time.to_seconds()) for c in clips for m in c.markers]
        assert ("hello", 1.0) in markers and ("pan", 7.0) in markers, (fmt, markers)
    edl = write(tl, "edl")
    assert re.search(r"^001\s+AB\s+V\s+C\s+00:00:00:00 00:00:03:00 00:00:00:00 00:00:03:00", edl, re.M)


def test_subtitles_follow_the_timeline():
    s = srt(cues([REEL]))
    blocks = s.strip().split("\n\n")
    assert blocks[1] == "2\n00:00:04,000 --> 00:00:05,200\nworld --> there"
    v = vtt(cues([REEL, OTHER]))
    assert v.startswith("WEBVTT\n\n") and "world -> there" in v  # "-->" may not appear in a cue's text
    shots = cues([OTHER, OTHER])  # no transcript: one cue per shot, on timeline time
    assert [(a, b) for a, b, _ in shots] == [(0, 4), (4, 8)]


def test_library_export_matches_the_catalog(indexed, tmp_path):
    lib, _ = indexed
    shots = next(a for a in select(lib) if a.name == "shots.mp4")
    scenes = lib.catalog.scenes(shots.id)
    report = export(lib, "otio", [shots], tmp_path, transcripts={shots.id: [(4.0, 5.0, "bars")]})
    tl = otio.adapters.read_from_file(report.files[0])
    clips = list(tl.find_clips())
    assert len(clips) == len(scenes) == 6
    assert [round(c.source_range.start_time.to_seconds(), 2) for c in clips] == [round(s.start, 2) for s in scenes]
    assert clips[0].media_reference.target_url.endswith("shots.mp4")
    assert [m.name for c in clips for m in c.markers] == ["bars"]
    for fmt in ("edl", "fcpxml", "srt", "vtt"):
        r = export(lib, fmt, select(lib), tmp_path / fmt)
        assert r.errors == [] and len(r.files) == 1
        assert any("not a video" in w for w in r.warnings)  # the still and the tone are left out
    edl = otio.adapters.read_from_file(str(tmp_path / "edl" / "dam shots.edl"), rate=25)
    assert len(list(edl.find_clips())) == sum(len(lib.catalog.scenes(a.id)) or 1 for a in select(lib)
                                               if a.kind == "video")
