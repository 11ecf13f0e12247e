"""Blender export: a script Blender runs, whose data says what the catalog says; run under bpy
when a Python with bpy is named in DAM_BPY_PYTHON (or a `blender` binary is installed)."""

from __future__ import annotations

import ast
import json
import os
import subprocess

import pytest

from dam.library_ops.blender import BlenderClip, scene_data
from dam.library_ops.exports import export, select


def script_data(path) -> dict:
    """DATA = json.loads("...") read back without running the script (which needs bpy)."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DATA":
            return json.loads(node.value.args[0].value)
    raise AssertionError("no DATA in the script")


def test_scene_data_aligns_clips_by_offset():
    a = BlenderClip(path="/f/a.mp4", name="a.mp4", offset=1.5, duration=10, fps=29.97, width=1920, height=1080,
                    cuts=[0, 4.2])
    b = BlenderClip(path="/f/b.mp4", name="b.mp4", offset=0.25, duration=12, fps=29.97, width=1920, height=1080)
    d = scene_data([a, b])
    assert (d["fps_num"], d["fps_den"]) == (30, 1.001)
    assert [c["offset"] for c in d["clips"]] == [1.25, 0.0]  # the earliest clip starts at frame 1
    assert d["frames"] == round(12 * 29.97)  # b (0 + 12 s) ends last
    with pytest.raises(ValueError):
        scene_data([])


def test_library_clips_become_a_blender_script(indexed, tmp_path):
    lib, _ = indexed
    videos = [a for a in select(lib) if a.kind == "video"]
    shots = next(a for a in videos if a.name == "shots.mp4")
    offsets = {shots.id: 0.0, **{a.id: 0.48 for a in videos if a.id != shots.id}}
    tracks = {shots.id: {"person 1": [(0.0, 0.1, 0.2), (1.0, 0.3, 0.25)]}}
    report = export(lib, "blender", select(lib), tmp_path, offsets=offsets, tracks=tracks)
    assert report.errors == [] and any("not a video" in w for w in report.warnings)
    script = tmp_path / "scene.py"
    compile(script.read_text(), str(script), "exec")
    data = script_data(script)
    by_name = {c["name"]: c for c in data["clips"]}
    assert set(by_name) == {a.name for a in videos}
    assert by_name["shots.mp4"]["offset"] == 0.0 and by_name["other.mp4"]["offset"] == 0.48
    assert by_name["shots.mp4"]["cuts"] == [s.start for s in lib.catalog.scenes(shots.id)]
    assert (tmp_path / "motion" / "shots-person_1.csv").read_text() == \
        "time_s,x,y\n0.000,0.10000,0.20000\n1.000,0.30000,0.25000\n"
    bpy_python = os.environ.get("DAM_BPY_PYTHON")
    if not bpy_python:
        pytest.skip("no Python with bpy (set DAM_BPY_PYTHON) to open the scene")
    blend = tmp_path / "out.blend"
    subprocess.run([bpy_python, str(script), "--", str(blend)], check=True, capture_output=True, timeout=600)
    check = (
        "import bpy, json, sys\n"
        "bpy.ops.wm.open_mainfile(filepath=sys.argv[1])\n"
        "s = bpy.context.scene\n"
        "ed = s.sequence_editor\n"
        "col = ed.strips if hasattr(ed, 'strips') else ed.sequences\n"
        "print(json.dumps({'movies': sorted(x.name for x in col if x.type == 'MOVIE'),"
        " 'starts': {x.name: x.frame_start for x in col if x.type == 'MOVIE'},"
        " 'markers': len(s.timeline_markers), 'fps': s.render.fps,"
        " 'empties': [o.name for o in bpy.data.objects if o.type == 'EMPTY']}))\n"
    )
    out = subprocess.run([bpy_python, "-c", check, str(blend)], check=True, capture_output=True, text=True, timeout=600)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["movies"] == sorted(a.name for a in videos)
    assert got["starts"]["shots.mp4"] == 1 and got["starts"]["other.mp4"] == 1 + round(0.48 * 25)
    assert got["markers"] == sum(len(c["cuts"]) for c in data["clips"]) and got["fps"] == 25
    assert got["empties"] == ["shots.mp4 person 1"]
