"""What the catalog already knows about an asset, in the plain shapes the exports take: transcript
sections and motion intervals as (start, end, text), motion tracks as (t, x, y) paths, and the
multi-cam sync offsets. Exports read these so a sidecar or a timeline carries everything dam found
without the caller having to gather it."""

from __future__ import annotations

import json

from dam.audio.store import MULTICAM, transcript_of
from dam.motion.store import load

Timed = list[tuple[float, float, str]]


def transcript_sections(lib, asset_id: str) -> Timed:
    tr = transcript_of(lib, asset_id)
    return [(s.start, s.end, s.title) for s in tr.sections] if tr else []


def transcript_segments(lib, asset_id: str) -> Timed:
    """What was said, segment by segment: the text subtitles carry (a section has only a title)."""
    tr = transcript_of(lib, asset_id)
    return [(s.start, s.end, s.text) for s in tr.segments] if tr else []


def motion_intervals(lib, asset_id: str) -> Timed:
    tl = load(lib.catalog, asset_id)
    return [(i.start, i.end, "camera motion" if i.kind == "camera" else "motion") for i in tl.intervals] if tl else []


def motion_tracks(lib, asset_id: str) -> dict[str, list[tuple[float, float, float]]]:
    """Each tracked object's centre (fractions of the frame, y down) over time."""
    tl = load(lib.catalog, asset_id)
    if tl is None:
        return {}
    return {f"track {t.id}": [(p.t, p.box[0] + p.box[2] / 2, p.box[1] + p.box[3] / 2) for p in t.points]
            for t in tl.tracks if t.points}


def sync_offsets(lib, asset_ids: list[str]) -> dict[str, float]:
    """Seconds on the reference's timeline at which each clip starts (a reference: 0), from
    `dam sync`'s multicam relations (stored clip -> reference, so the direction is kept)."""
    wanted = set(asset_ids)
    out: dict[str, float] = {}
    for aid in asset_ids:
        for r in lib.catalog.rows("SELECT other_id, detail FROM relations WHERE kind = ? AND asset_id = ?", (MULTICAM, aid)):
            offset = json.loads(r["detail"]).get("offset")
            if offset is not None:
                out[aid] = float(offset)
                if r["other_id"] in wanted:
                    out.setdefault(r["other_id"], 0.0)
    return out
