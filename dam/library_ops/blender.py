"""A set of clips (a multi-cam group aligned by its sync offsets) as a Blender scene.

bpy does not ship with dam (a 370 MB wheel pinned to one Python), so dam writes a script that
Blender runs — `blender -b -P scene.py -- shoot.blend` — which builds the scene and saves the
.blend: each clip a movie strip (and its sound) on its own channel, starting at its offset;
timeline markers at every scene cut; each motion track an Empty keyframed along its path, and
the same tracks as CSV files any tool imports. When a `blender` binary is on PATH, dam runs
the script itself. The data sits in the script as one JSON literal, checked before writing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dam.files import write_atomic

Track = list[tuple[float, float, float]]  # (seconds, x, y), x and y as fractions of the frame


@dataclass
class BlenderClip:
    path: str
    name: str
    offset: float  # seconds from the start of the group (sync offset)
    duration: float
    fps: float
    width: int
    height: int
    cuts: list[float] = field(default_factory=list)  # scene starts, seconds into the clip
    motion: dict[str, Track] = field(default_factory=dict)  # track name -> samples


SCRIPT = r'''"""Built by dam: run with  blender -b -P {script_name} -- OUT.blend  (or open it in Blender's
Text Editor and press Run). Clips become movie strips at their sync offsets, scene cuts become
markers, motion tracks become animated Empties (also in motion/*.csv)."""
import json
import sys

import bpy

DATA = json.loads({data!r})


def strips(editor):
    # Blender 4.4+ calls the collection `strips`, older versions `sequences`.
    return editor.strips if hasattr(editor, "strips") else editor.sequences


def build():
    scene = bpy.context.scene
    fps = DATA["fps"]
    scene.render.fps, scene.render.fps_base = DATA["fps_num"], DATA["fps_den"]
    scene.render.resolution_x, scene.render.resolution_y = DATA["width"], DATA["height"]
    scene.frame_start, scene.frame_end = 1, max(1, DATA["frames"])
    editor = scene.sequence_editor or scene.sequence_editor_create()
    for i, clip in enumerate(DATA["clips"]):
        start = 1 + round(clip["offset"] * fps)
        strip = strips(editor).new_movie(name=clip["name"], filepath=clip["path"], channel=2 * i + 2,
                                         frame_start=start)
        strip["dam_offset_seconds"] = clip["offset"]
        try:
            strips(editor).new_sound(name=clip["name"] + " audio", filepath=clip["path"], channel=2 * i + 1,
                                     frame_start=start)
        except (RuntimeError, TypeError):
            pass  # a clip without sound
        for k, cut in enumerate(clip["cuts"]):
            scene.timeline_markers.new("%s shot %d" % (clip["name"], k + 1), frame=start + round(cut * fps))
        for track, samples in clip["motion"].items():
            empty = bpy.data.objects.new("%s %s" % (clip["name"], track), None)
            scene.collection.objects.link(empty)
            for t, x, y in samples:
                empty.location = (x * DATA["width"] / 100.0, (1.0 - y) * DATA["height"] / 100.0, 0.0)
                empty.keyframe_insert("location", frame=start + round(t * fps))


build()
if "--" in sys.argv and sys.argv[sys.argv.index("--") + 1:]:
    bpy.ops.wm.save_as_mainfile(filepath=sys.argv[sys.argv.index("--") + 1])
'''


def _rate(fps: float) -> tuple[int, float]:
    """Blender's fps / fps_base pair: 29.97 is 30 / 1.001."""
    for base in (1.0, 1.001):
        num = fps * base
        if abs(num - round(num)) < 0.01:
            return round(num), base
    return round(fps), round(fps) / fps


def scene_data(clips: list[BlenderClip]) -> dict:
    if not clips:
        raise ValueError("no clips to put in a Blender scene")
    fps = clips[0].fps or 25.0
    num, den = _rate(fps)
    lead = min(c.offset for c in clips)
    items = []
    for c in clips:
        d = asdict(c)
        d["offset"] = round(c.offset - lead, 4)  # the earliest clip starts at frame 1
        d["motion"] = {k: [list(s) for s in v] for k, v in c.motion.items()}
        items.append(d)
    end = max(i["offset"] + i["duration"] for i in items)
    return {"fps": fps, "fps_num": num, "fps_den": den, "width": clips[0].width, "height": clips[0].height,
            "frames": round(end * fps), "clips": items}


def motion_csv(samples: Track) -> str:
    return "time_s,x,y\n" + "".join(f"{t:.3f},{x:.5f},{y:.5f}\n" for t, x, y in samples)


def write_blender(clips: list[BlenderClip], folder: Path, run_blender: bool = True) -> list[Path]:
    """scene.py (+ motion/*.csv, + scene.blend when a `blender` binary is here); returns the files."""
    data = scene_data(clips)
    script = SCRIPT.format(script_name="scene.py", data=json.dumps(data))
    compile(script, "scene.py", "exec")  # never hand Blender a script that does not parse
    files = [write_atomic(folder / "scene.py", script)]
    for c in clips:
        for track, samples in c.motion.items():
            name = re.sub(r"[^\w.-]+", "_", f"{Path(c.name).stem}-{track}").lstrip(".")
            files.append(write_atomic(folder / "motion" / f"{name}.csv", motion_csv(samples)))
    blender = shutil.which("blender")
    if run_blender and blender:
        blend = folder / "scene.blend"
        r = subprocess.run([blender, "-b", "--factory-startup", "-P", str(folder / "scene.py"), "--", str(blend)],
                           capture_output=True, text=True, timeout=600)
        if r.returncode == 0 and blend.exists():
            files.append(blend)
    return files
