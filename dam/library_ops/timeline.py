"""Timelines for editors: an asset's shots (plus optional transcript sections and motion
intervals) as OpenTimelineIO, CMX 3600 EDL, Final Cut Pro X XML, SRT and WebVTT.

OpenTimelineIO builds the one timeline and its adapters write EDL and FCPXML, so every format
says the same thing: each shot is a clip cut from the original at its source range, laid end
to end on V1; transcript sections and motion intervals are markers on the clips they fall in.
Subtitles carry the transcript when there is one, else the shot list."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import opentimelineio as otio

Timed = list[tuple[float, float, str]]


@dataclass
class Reel:
    """One source file and what to lay out from it (plain data: no catalog needed)."""

    path: str
    fps: float
    duration: float
    shots: list[tuple[float, float]]
    transcript: Timed = field(default_factory=list)
    motion: Timed = field(default_factory=list)

    @property
    def name(self) -> str:
        return Path(self.path).name


def _rt(seconds: float, fps: float) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(round(seconds * fps), fps)


def _range(start: float, end: float, fps: float) -> otio.opentime.TimeRange:
    s = _rt(start, fps)
    return otio.opentime.TimeRange(s, _rt(end, fps) - s)


def reel_name(path: str) -> str:
    """EDL reel names are short and plain: the file stem's letters and digits, 8 at most."""
    return re.sub(r"[^A-Za-z0-9]", "", Path(path).stem)[:8].upper() or "AX"


def build(reels: list[Reel], name: str = "dam shots") -> otio.schema.Timeline:
    """One video track: every shot of every reel, in order, as a clip of its original."""
    rate = reels[0].fps if reels else 25.0
    tl = otio.schema.Timeline(name=name, global_start_time=otio.opentime.RationalTime(0, rate))
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    tl.tracks.append(track)
    for reel in reels:
        ref = otio.schema.ExternalReference(target_url=Path(reel.path).resolve().as_uri(),
                                            available_range=_range(0, reel.duration, reel.fps))
        for i, (start, end) in enumerate(reel.shots):
            if end - start < 1 / reel.fps:
                continue
            # Straight quotes become typographic ones: the FCPXML writer looks clips up by name in XPath.
            label = Path(reel.path).stem.replace("'", "\u2019").replace('"', "\u201d")
            clip = otio.schema.Clip(name=f"{label} shot {i + 1}", media_reference=ref.clone(),
                                    source_range=_range(start, end, reel.fps))
            clip.metadata["dam"] = {"path": reel.path, "shot": i}
            clip.metadata["cmx_3600"] = {"reel": reel_name(reel.path)}
            for kind, color, notes in (("transcript", otio.schema.MarkerColor.GREEN, reel.transcript),
                                       ("motion", otio.schema.MarkerColor.RED, reel.motion)):
                for s, e, text in notes:
                    if start <= s < end:  # a note belongs to the shot it starts in
                        clip.markers.append(otio.schema.Marker(
                            name=text[:120], color=color, marked_range=_range(s, min(e, end), reel.fps),
                            metadata={"dam": {"kind": kind}}))
            track.append(clip)
    return tl


def write(tl: otio.schema.Timeline, fmt: str) -> str:
    if fmt == "otio":
        return otio.adapters.write_to_string(tl, "otio_json")
    if fmt == "edl":
        return otio.adapters.write_to_string(tl, "cmx_3600", style="avid")
    if fmt == "fcpxml":
        return otio.adapters.write_to_string(tl, "fcpx_xml")
    raise ValueError(f"unknown timeline format {fmt!r}")


# --- subtitles -------------------------------------------------------------------------------


def cues(reels: list[Reel]) -> Timed:
    """Timeline-time cues: transcript sections where there are any, else one cue per shot."""
    out: Timed = []
    at = 0.0
    for reel in reels:
        kept = [(s, e) for s, e in reel.shots if e - s >= 1 / reel.fps]
        for i, (start, end) in enumerate(kept):
            inside = [(s, min(e, end), t) for s, e, t in reel.transcript if start <= s < end]
            if reel.transcript:
                out += [(at + s - start, at + e - start, t) for s, e, t in inside]
            else:
                out.append((at, at + end - start, f"{reel.name} — shot {i + 1}"))
            at += end - start
    return out


def _stamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def srt(items: Timed) -> str:
    return "".join(f"{i}\n{_stamp(s, ',')} --> {_stamp(e, ',')}\n{' '.join(t.split())}\n\n"
                   for i, (s, e, t) in enumerate(items, 1))


def vtt(items: Timed) -> str:
    body = "".join(f"{_stamp(s, '.')} --> {_stamp(e, '.')}\n{' '.join(t.split()).replace('-->', '->')}\n\n" for s, e, t in items)
    return "WEBVTT\n\n" + body
