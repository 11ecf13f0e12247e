"""Batch backfill for `ray job submit`: index everything under ROOT on the cluster.

    ray job submit --working-dir . -- python -m dam.datasets.backfill /mnt/footage

Safe to stop and resubmit: finished assets are recognised by content and skipped."""

from __future__ import annotations

import argparse
import sys

from dam.config import Settings
from dam.library import Library
from dam.progress import TerminalProgress


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dam.datasets.backfill", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("roots", nargs="+", help="folders to index")
    ap.add_argument("--levels", choices=["L0", "L2", "L3"], default="L3")
    ap.add_argument("--decode-concurrency", type=int, help="decode actors (default DAM_DECODE_CONCURRENCY)")
    ap.add_argument("--embed-concurrency", type=int, help="embed actors")
    ap.add_argument("--num-gpus", type=float, help="GPUs per embed actor (default: 1 if the cluster has GPUs)")
    args = ap.parse_args(argv)
    overrides = {k: v for k, v in {"decode_concurrency": args.decode_concurrency,
                                   "embed_concurrency": args.embed_concurrency, "num_gpus": args.num_gpus}.items()
                 if v is not None}
    settings = Settings(**overrides)
    if not settings.media_roots:
        settings.media_roots = list(args.roots)
    lib = Library(settings)
    report = lib.ingest(args.roots, levels=args.levels, progress=TerminalProgress())
    print(f"backfill {report.job}: {report.indexed} indexed, {report.unchanged} unchanged, {report.failed} failed, "
          f"{report.video_seconds:.0f} video s in {report.seconds:.0f}s", flush=True)
    for e in report.errors:
        print(f"  failed: {e.path}: {e.reason}", flush=True)
    return 3 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
