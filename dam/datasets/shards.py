"""Split videos into time ranges so one long file keeps every worker busy."""

from __future__ import annotations

import math

from dam.schema import Asset

# No piece is split off below this many frames: every shard also decodes CONTEXT (50) frames past
# each of its cut edges for shot detection. Two 200-frame halves of a 400-frame file decode 250
# frames each, at once on two actors: over a third less wall time than 400 on one; smaller pieces
# lose more and more of the gain to the context.
MIN_SPLIT_FRAMES = 200


def _frames(asset: Asset) -> tuple[float, int]:
    info = asset.info
    assert info is not None and info.video is not None
    fps = info.video.fps or 25.0
    return fps, info.video.frame_count or math.ceil((info.duration or 0) * fps)


def plan_job(assets: list[Asset], shard_seconds: float, actors: int) -> list[dict]:
    """The shards of a whole job: no longer than `shard_seconds`, and, when that gives fewer
    shards than there are decode actors (one or two short files: the demo, a phone dump), the
    longest pieces split further so that every actor gets one: one 120 s file in 60 s shards
    would keep 2 of a 16-core node's 14 decoders busy. Shards of a file are equal in length (the
    ingest benchmark's 34.6 s file cut at 30 s used to leave a 4.6 s second shard)."""
    pieces = {a.id: max(1, math.ceil(_frames(a)[1] / max(1, round(shard_seconds * _frames(a)[0])))) for a in assets}
    while assets and sum(pieces.values()) < actors:
        a = max(assets, key=lambda a: _frames(a)[1] / pieces[a.id])
        if _frames(a)[1] / (pieces[a.id] + 1) < MIN_SPLIT_FRAMES:
            break
        pieces[a.id] += 1
    return [row for a in assets for row in plan_shards(a, shard_seconds, pieces[a.id])]


def plan_shards(asset: Asset, shard_seconds: float, pieces: int | None = None) -> list[dict]:
    """`pieces` equal time ranges (default: as many as `shard_seconds` needs, equal in length)."""
    info = asset.info
    fps, total = _frames(asset)
    count = pieces or max(1, math.ceil(total / max(1, round(shard_seconds * fps))))
    per = max(1, math.ceil(total / count))
    count = max(1, math.ceil(total / per))
    rows = []
    for k in range(count):
        start = k * per
        # The last shard runs to the real end even if the header under-counts frames.
        end = (k + 1) * per if k < count - 1 else total + round(2 * fps)
        rows.append({
            "asset_id": asset.id, "path": asset.path, "shard": k, "shards": count, "start": start, "end": end,
            "fps": float(fps), "width": info.video.width, "height": info.video.height,
            "rotation": info.video.rotation, "expected_frames": total, "codec": info.video.codec or "",
            "vfr": info.video.variable_frame_rate,
        })
    return rows
