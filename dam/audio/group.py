"""A multi-camera group: every clip placed on one reference's timeline, and the JSON timeline
other tools (an NLE, the Blender export) read. Pure: the pairs are computed elsewhere."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, Field

from dam.audio.sync import SyncResult

TIMELINE_FORMAT = "dam.multicam.timeline/1"


class SyncGroup(BaseModel):
    group: str = Field(description="Stable id of this set of files (hash of their paths).")
    reference: str
    results: list[SyncResult]
    errors: dict[str, str] = Field(default_factory=dict)  # path -> why it could not be read
    seconds: float = 0.0

    def timeline(self, durations: dict[str, float] | None = None) -> dict:
        """Clips that matched, placed so the earliest starts at 0. `start` is where the clip's
        first sample sits; `rate` stretches clip time to timeline time (drift)."""
        placed = [(self.reference, 0.0, 0.0, 1.0, None)] + [
            (r.clip, r.offset, r.drift_ppm or 0.0, r.confidence, r.error_ms) for r in self.results if r.matched]
        first = min(p[1] for p in placed)
        durations = durations or {}
        clips = [{"path": path, "start": round(off - first, 6), "offset": round(off, 6), "drift_ppm": drift,
                  "rate": round(1 + drift * 1e-6, 9), "confidence": conf, "error_ms": err,
                  "duration": durations.get(path), "reference": path == self.reference}
                 for path, off, drift, conf, err in placed]
        return {"format": TIMELINE_FORMAT, "group": self.group, "reference": self.reference,
                "clips": sorted(clips, key=lambda c: c["start"]),
                "unmatched": [{"path": r.clip, "reason": r.reason, **({"candidates": r.candidates} if r.ambiguous else {})}
                              for r in self.results if not r.matched]
                + [{"path": p, "reason": e} for p, e in self.errors.items()]}


def group_id(paths: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(paths)).encode()).hexdigest()[:12]
