"""Batch backfill for `ray job submit`: index everything under ROOT on the cluster.

    ray job submit --working-dir . -- python -m dam.datasets.backfill /mnt/footage s3://bucket/footage

Safe to stop, kill and resubmit: finished assets are recognised and skipped (local files by size
and mtime, then content; object-store files by size and mtime, without downloading them again).
Attached to a cluster (`RAY_ADDRESS`, which `ray job submit` sets, or `DAM_RAY_ADDRESS`), the
catalog is the one writer actor on the head, so every driver and node sees the same progress."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dam.config import Settings
from dam.library import Library
from dam.objectstore import ObjectSync, is_uri
from dam.progress import TerminalProgress


def cluster_settings(**overrides: object) -> Settings:
    """Settings for a driver: `ray job submit` sets only RAY_ADDRESS, which means the same as
    DAM_RAY_ADDRESS here (so `catalog=auto` picks the head's catalog actor)."""
    settings = Settings(**overrides)
    if settings.ray_address is None and os.environ.get("RAY_ADDRESS"):
        settings.ray_address = os.environ["RAY_ADDRESS"]
    return settings


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dam.datasets.backfill", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("roots", nargs="+", help="folders, files or object-store URIs (s3://bucket/prefix, gs://...)")
    ap.add_argument("--levels", choices=["L0", "L2", "L3"], default="L3")
    ap.add_argument("--decode-concurrency", type=int, help="decode actors (default DAM_DECODE_CONCURRENCY)")
    ap.add_argument("--embed-concurrency", type=int, help="embed actors")
    ap.add_argument("--num-gpus", type=float, help="GPUs per embed actor (default: 1 if the cluster has GPUs)")
    ap.add_argument("--batch-size", type=int, help="frames per encoder batch (default DAM_EMBED_BATCH_SIZE)")
    ap.add_argument("--shard-seconds", type=float, help="length of the time ranges videos are split into")
    ap.add_argument("--json", action="store_true", help="print the report as JSON (last line of the log)")
    args = ap.parse_args(argv)
    overrides = {k: v for k, v in {"decode_concurrency": args.decode_concurrency,
                                   "embed_concurrency": args.embed_concurrency, "num_gpus": args.num_gpus,
                                   "embed_batch_size": args.batch_size, "shard_seconds": args.shard_seconds}.items()
                 if v is not None}
    settings = cluster_settings(**overrides)

    local = [r for r in args.roots if not is_uri(r)]
    remote = [r for r in args.roots if is_uri(r)]
    if not settings.media_roots:
        settings.media_roots = [Path(r) for r in local]
    if remote:
        settings.media_roots = [*settings.media_roots, settings.object_cache]
    lib = Library(settings)
    progress = TerminalProgress()
    staged, skipped, errors = [], [], []
    sync = None
    if remote:
        sync = ObjectSync(lib, remote)
        staged, skipped, errors = sync.stage(progress)
    report = lib.ingest(local + [str(p) for p in staged], levels=args.levels, progress=progress)
    if sync is not None:
        sync.link()
        report.downloaded = sync.downloaded
    report.unchanged += len(skipped)
    report.assets += skipped
    report.errors += errors
    report.failed = len({e.path for e in report.errors if e.stage != "damaged"})  # damaged ones are indexed
    if args.json:
        print(report.model_dump_json(), flush=True)
    else:
        print(f"backfill {report.job}: {report.indexed} indexed, {report.unchanged} unchanged, {report.failed} failed, "
              f"{report.damaged} damaged, "
              f"{report.video_seconds:.0f} video s in {report.seconds:.0f}s", flush=True)
        for e in report.errors:
            print(f"  {'damaged' if e.stage == 'damaged' else 'failed'}: {e.path}: {e.reason}", flush=True)
    return 3 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
