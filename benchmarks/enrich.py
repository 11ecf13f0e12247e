"""Enrichment: cost per asset against decoding the same file once (ffmpeg, one thread), and
how many expected labels generated footage with known properties gets (colour, light,
orientation), with how many contradicting ones (e.g. 'red' on a blue clip, a face on any)."""

from __future__ import annotations

import subprocess
import time
from datetime import datetime, timezone

from benchmarks.media import CACHE
from dam.config import Settings
from dam.enrich.run import enrich_one, make_sources
from dam.media.probe import probe
from dam.schema import Asset

CASES = {  # name: (lavfi source, size, expected labels, labels that would be wrong)
    "red": ("color=c=red", "1280x720", {"red", "horizontal"}, {"blue", "green", "low light", "vertical"}),
    "blue": ("color=c=0x1040d0", "1280x720", {"blue"}, {"red", "green", "low light"}),
    "green": ("color=c=0x20b030", "720x1280", {"green", "vertical"}, {"red", "blue", "horizontal"}),
    "dark": ("testsrc2", "1280x720", {"low light"}, {"bright", "day"}),
    "bright": ("color=c=0xf0f0f0", "1280x720", {"white", "bright"}, {"low light", "night"}),
}


def clip(name: str, src: str, size: str, seconds: int = 10) -> Asset:
    path = CACHE / "enrich" / f"{name}_{size}.mp4"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        vf = "lutyuv=y=val*0.15" if name == "dark" else "noise=alls=12:allf=t"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"{src}{':' if '=' in src else '='}size={size}:rate=25:duration={seconds}",
                        "-vf", vf, "-pix_fmt", "yuv420p", str(path)], check=True)
    info = probe(path)
    return Asset(id=name, path=str(path), name=path.name, kind="video", content_hash=name, size=info.size,
                 mtime=path.stat().st_mtime, status="indexed", info=info, added_at=datetime.now(timezone.utc))


def run() -> dict:
    sources, skipped = make_sources(Settings())
    rows, found, expected, wrong = {}, 0, 0, 0
    for name, (src, size, want, bad) in CASES.items():
        a = clip(name, src, size)
        t0 = time.perf_counter()
        subprocess.run(["ffmpeg", "-v", "error", "-threads", "1", "-i", a.path, "-an", "-f", "null", "-"], check=True)
        decode = time.perf_counter() - t0
        t0 = time.perf_counter()
        e = enrich_one(sources, a, [], skipped=skipped)
        took = time.perf_counter() - t0
        got = set(e.names())
        found += len(want & got)
        expected += len(want)
        bad = bad | {"face"}  # no clip here has a person in it
        wrong += len(bad & got)
        rows[name] = {"seconds": round(took, 3), "vs_decode_once": round(decode / took, 2),
                      "missing": sorted(want - got), "wrong": sorted(bad & got), "description": e.description}
    return {"cases": rows, "expected_label_recall": round(found / expected, 3), "contradicting_labels": wrong,
            "sources": [s.name for s in sources], "skipped": skipped}
