"""Phone imports: Live Photo pairs become one asset, and sources a browser cannot play get proxies.

A Live Photo is a still (HEIC/JPEG) plus a ~3 s MOV with the same name in the same folder;
when both carry Apple's ContentIdentifier they must agree. The pair is one asset — the photo —
and the MOV's file row points at it (the catalog keeps both files, so backup keeps both)."""

from __future__ import annotations

from pathlib import Path

from dam.media.proxy import make_proxy, needs_proxy, proxy_path
from dam.schema import Asset, ErrorRecord

LIVE_MAX_SECONDS = 5.0
CONTENT_ID_TAGS = ("com.apple.quicktime.content.identifier", "content_identifier")


def content_id(a: Asset) -> str | None:
    tags = a.info.tags if a.info else {}
    return next((tags[k] for k in CONTENT_ID_TAGS if tags.get(k)), None)


def live_pairs(assets: list[tuple[Path, Asset]]) -> list[tuple[Path, Asset, Path, Asset]]:
    """(photo path, photo, video path, video) for each Live Photo among files of one folder or more."""
    groups: dict[tuple[Path, str], list[tuple[Path, Asset]]] = {}
    for path, a in assets:
        groups.setdefault((path.parent, path.stem.lower()), []).append((path, a))
    pairs = []
    for members in groups.values():
        photos = [(p, a) for p, a in members if a.kind == "image"]
        videos = [(p, a) for p, a in members if a.kind == "video" and a.info and (a.info.duration or 99) <= LIVE_MAX_SECONDS]
        if len(photos) != 1 or len(videos) != 1:
            continue
        (pp, photo), (vp, video) = photos[0], videos[0]
        a_id, b_id = content_id(photo), content_id(video)
        if a_id and b_id and a_id != b_id:
            continue
        pairs.append((pp, photo, vp, video))
    return pairs


def _children(catalog, folder: Path) -> list:
    """File rows directly inside folder (not below it), with an asset."""
    prefix = str(folder).rstrip("/") + "/"
    return catalog.rows("SELECT path, asset_id FROM files WHERE substr(path, 1, ?) = ? AND asset_id IS NOT NULL"
                         " AND instr(substr(path, ?), '/') = 0", (len(prefix), prefix, len(prefix) + 1))


def group_live_photos(lib, folders: set[Path]) -> set[str]:
    """Fold each Live Photo's video into its photo asset; returns the video asset ids removed.
    Only names that occur twice in a folder are looked at, so this costs one query per folder."""
    entries = []
    for folder in folders:
        rows = _children(lib.catalog, folder)
        stems: dict[str, int] = {}
        for r in rows:
            stems[Path(r["path"]).stem.lower()] = stems.get(Path(r["path"]).stem.lower(), 0) + 1
        for r in rows:
            if stems[Path(r["path"]).stem.lower()] > 1:
                a = lib.catalog.asset(r["asset_id"])
                if a is not None:
                    entries.append((Path(r["path"]), a))
    gone: set[str] = set()
    for _pp, photo, vp, video in live_pairs(entries):
        if video.id == photo.id:
            continue
        row = lib.catalog.file(str(vp))
        lib.catalog.put_file(str(vp), row["size"], row["mtime"], photo.id, "live")
        if lib.catalog.orphaned(video.id):
            lib.forget(video.id)
            gone.add(video.id)
        info = photo.info.model_copy(update={"tags": {**photo.info.tags, "live_video": str(vp),
                                                       "live_duration": f"{video.info.duration or 0:.2f}"}})
        lib.catalog.set_asset(photo.id, info=info.model_dump_json())
    return gone


def make_proxies(lib, assets: list[Asset], progress=None) -> list[ErrorRecord]:
    """An H.264 proxy for every video the browser cannot play (skipped when one exists)."""
    todo = [a for a in assets if needs_proxy(a.info) and not proxy_path(lib.settings, a.id).exists()]
    errors = []
    if progress and todo:
        progress.start("proxies (H.264 for the browser)", len(todo))
    for a in todo:
        try:
            make_proxy(Path(a.path), proxy_path(lib.settings, a.id))
        except (RuntimeError, OSError) as e:
            errors.append(ErrorRecord(path=a.path, reason=f"proxy: {e}", stage="proxy"))
        if progress:
            progress.advance(1, a.name)
    if progress and todo:
        progress.finish()
    return errors


def proxy_stage(lib, run, done: list[str]) -> None:
    """The ingest stage (dam.ingest_run.AFTER_LEVELS): proxies for the videos just indexed."""
    run.report.errors += make_proxies(lib, lib.catalog.assets(ids=done), run.progress)
