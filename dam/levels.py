"""What each level stores for one asset: L0's document, poster and first vector while the
caller waits, then L1/L2 (frame vectors, scenes, their thumbnails and vectors) once every
shard of a video is in (the pipeline's driver loop is here too). Library (dam/library.py)
decides when; this module, what."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from dam.catalog import now
from dam.datasets.shards import plan_job
from dam.encoders.base import unit
from dam.media.decode import DecodeError, decode_frames, decode_size
from dam.media.photo import photo_still, read_image
from dam.media.thumbs import extract_still
from dam.progress import Progress
from dam.schema import Asset, ErrorRecord, IngestReport
from dam.segment import AssetFrames, build_scenes, damage_note, scene_of, scene_vectors
from dam.store import vector_id

L0_FRAMES = 5
log = logging.getLogger("dam")


def poster(a: Asset, folder: Path) -> str | None:
    """A poster is a nicety: a file whose poster cannot be made is still indexed."""
    try:
        if a.kind == "video":
            at = min((a.info.duration or 0) * 0.1, 10.0)
            return str(extract_still(Path(a.path), at, folder / "poster.jpg", width=640))
        if a.kind == "image":  # Pillow: HEIC too, and turned upright by its EXIF orientation
            return str(photo_still(Path(a.path), folder / "poster.jpg", width=640))
    except Exception as e:
        log.info("no poster for %s: %s", a.path, why(e))
    return None


def document(a: Asset) -> str:
    """The words an asset is found by before anything looks at it: its name, folder, kind, camera."""
    words = Path(a.path).stem.replace("_", " ").replace("-", " ")
    info = a.info
    parts = [words, Path(a.path).parent.name.replace("_", " "), a.kind]
    if info and info.make:
        parts.append(f"{info.make} {info.model or ''}")
    return " · ".join(x for x in parts if x)


def quick_vector(lib, a: Asset) -> np.ndarray | None:
    """A first asset vector from a few frames (a picture: itself), while the caller waits."""
    if a.kind == "audio" or a.info is None or a.info.video is None:
        return None
    v = a.info.video
    size = decode_size(v.width, v.height, lib.settings.frame_size)
    if a.kind == "image":
        frames = read_image(Path(a.path))
    else:
        n = v.frame_count or max(1, round((a.info.duration or 0) * (v.fps or 25.0)))
        picks = np.linspace(0, n - 1, L0_FRAMES + 2)[1:-1].round().astype(int).tolist()
        frames, _ = decode_frames(Path(a.path), picks, size, v.rotation, backend=lib.settings.decoder)
        if not len(frames):  # the picks may all fall in damage: the first frames then
            frames, _ = decode_frames(Path(a.path), [0], size, v.rotation, backend=lib.settings.decoder)
        if not len(frames):
            raise DecodeError("no frame can be decoded (truncated or corrupt?)")
    return unit(lib.image_encoder.embed_images(list(frames)).mean(axis=0))


def write_levels(lib, a: Asset, acc: AssetFrames) -> None:
    """L1 frame vectors, L2 scenes with their thumbnails and vectors, the L0 vector made from
    them, for one asset whose every shard is in; what an earlier run stored and this one did
    not is removed (idempotent re-index)."""
    index, times, vectors, quality, cuts = acc.merged()
    scenes = build_scenes(a.id, cuts, max(acc.end, int(index.max()) + 1 if len(index) else 1), acc.fps)
    which = scene_of(index, scenes)
    kept, l2 = scene_vectors(scenes, which, times, vectors, quality)
    for s in scenes:
        if s.hero_time is not None:
            try:
                s.thumbnail = str(extract_still(Path(a.path), s.hero_time,
                                                lib.settings.thumbs_dir / a.id / f"scene-{s.index:04d}.jpg"))
            except RuntimeError:
                s.thumbnail = None
    l1_ids = [vector_id(a.id, "l1", int(i)) for i in index]
    lib.store.upsert("l1", lib.key, l1_ids, vectors, [
        {"asset_id": a.id, "t": float(t), "frame": int(i), "scene": int(s), "encoder": lib.key}
        for i, t, s in zip(index, times, which)
    ])
    l2_ids = [vector_id(a.id, "l2", k) for k in kept]
    lib.store.upsert("l2", lib.key, l2_ids, l2, [
        {"asset_id": a.id, "scene": k, "start": scenes[k].start, "end": scenes[k].end, "encoder": lib.key}
        for k in kept
    ])
    if len(l2):
        lib.store.upsert("l0", lib.key, [vector_id(a.id, "l0", 0)], unit(l2.mean(axis=0))[None],
                          [{"asset_id": a.id, "kind": a.kind, "encoder": lib.key}])
    # Remove what an earlier run of this asset stored and this run did not (idempotent re-index).
    for level, ids in (("l1", l1_ids), ("l2", l2_ids)):
        stale = set(lib.store.ids_of(level, lib.key, a.id)) - set(ids)
        lib.store.delete_ids(level, lib.key, sorted(stale))
    lib.store.delete_asset(a.id, keep_key=lib.key)  # vectors from a previous encoder
    lib.catalog.replace_scenes(a.id, scenes)
    lib.catalog.set_asset(a.id, status="indexed", encoder=lib.key, error=None, indexed_at=now(),
                           levels={"L0": 1, "L1": len(index), "L2": len(scenes)}, damaged=acc.lost_seconds())


def asset_failed(lib, a: Asset, stage: str, reason: str, report: IngestReport) -> None:
    """The asset fails this stage: marked in the catalog, listed in the report; the batch goes on."""
    lib.catalog.set_asset(a.id, status="error", error=f"{stage}: {reason}")
    report.errors.append(ErrorRecord(path=a.path, reason=reason, stage=stage))


def levels12(lib, assets: list[Asset], report: IngestReport, p: Progress) -> list[str]:
    """L1/L2 of the videos among `assets` on the Ray pipeline, each written as its last shard
    comes in; returns the ids indexed."""
    # Ray Data (and Ray) only when videos are indexed: 0.3 s and more of every command's start.
    from dam.datasets.pipeline import StageClock, run_shards
    from dam.runtime.start import with_decode_actors

    videos = [a for a in lib.catalog.assets(ids=[a.id for a in assets]) if a.kind == "video" and a.status != "error"]
    settings = with_decode_actors(lib.settings) if videos else lib.settings  # Ray only for videos
    shards = plan_job(videos, settings.shard_seconds, settings.decode_concurrency)
    pending = {a.id: AssetFrames(fps=a.info.video.fps or 25.0, shards=0) for a in videos}
    for row in shards:
        pending[row["asset_id"]].shards += 1
    by_id = {a.id: a for a in videos}
    total_seconds = sum(a.info.duration or 0 for a in videos)
    p.start("L1/L2 (decode, shots, embed)", total_seconds, unit="video s")
    done: list[str] = []
    nodes: dict[str, set[str]] = {"decode": set(), "embed": set()}
    clock = StageClock()
    for row in run_shards(settings, shards):
        clock.add(row)
        report.busy = clock.fractions()
        for stage in nodes:
            if row.get(f"{stage}_node"):
                nodes[stage].add(row[f"{stage}_node"])
        report.nodes = {k: sorted(v) for k, v in nodes.items()}
        acc = pending[row["asset_id"]]
        if not acc.add(row):
            continue
        span = (row["end"] - row["start"]) / acc.fps
        report.video_seconds += span
        p.advance(span, Path(row["path"]).name)
        if acc.complete:
            a = by_id[row["asset_id"]]
            if acc.errors:
                asset_failed(lib, a, "L1", "; ".join(sorted(set(acc.errors)))[:500], report)
            elif not acc.index:
                asset_failed(lib, a, "decode", "no frame can be decoded (truncated or corrupt?)", report)
            else:
                write_levels(lib, a, acc)
                report.indexed += 1
                done.append(a.id)
                if acc.lost:
                    report.damaged += 1
                    report.errors.append(ErrorRecord(path=a.path, stage="damaged",
                                                     reason=damage_note(acc.lost_seconds(), a.info.duration)))
    p.finish()
    return done


def why(e: BaseException) -> str:
    """One line for a person: our own errors say it already; a library's gets its type named."""
    msg = str(e).splitlines()[0][:300] if str(e) else ""
    return msg if isinstance(e, (DecodeError, OSError)) and msg else f"{type(e).__name__}: {msg}".rstrip(": ")
