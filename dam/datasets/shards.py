"""Split videos into time ranges so one long file keeps every worker busy."""

from __future__ import annotations

import math

from dam.schema import Asset


def plan_shards(asset: Asset, shard_seconds: float) -> list[dict]:
    info = asset.info
    assert info is not None and info.video is not None
    fps = info.video.fps or 25.0
    total = info.video.frame_count or math.ceil((info.duration or 0) * fps)
    per = max(1, round(shard_seconds * fps))
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
