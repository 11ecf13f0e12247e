"""Shot detection: F1 and frames/s of dam's detector vs PySceneDetect on footage with known
cuts, dissolves and fades. A detection matches a cut within 2 frames, or a gradual
transition anywhere inside it (±2 frames); each true transition matches once."""

from __future__ import annotations

import time

import numpy as np

from benchmarks.media import shot_set
from dam.media.decode import decode_shard
from dam.media.shots import TransNetV2Detector
from dam.samples import Boundary


def score(found: list[int], truth: list[Boundary], tol: int = 2) -> tuple[int, int, int]:
    unmatched = list(truth)
    tp = 0
    for f in sorted(found):
        hit = next((b for b in unmatched if b.start - tol <= f <= b.end + tol), None)
        if hit is not None:
            unmatched.remove(hit)
            tp += 1
    return tp, len(found) - tp, len(unmatched)


def f1(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0}


def run(count: int = 4) -> dict:
    videos = shot_set(count)
    detectors = {}

    dam_detector = TransNetV2Detector(device="cpu")

    def dam_detect(path):
        sf = decode_shard(path, 0, 10**9, np.array([], np.int64), (64, 36))
        return [t.split for t in dam_detector.detect(sf.tiny, sf.first)]

    detectors["dam (TransNetV2)"] = dam_detect
    try:
        from scenedetect import AdaptiveDetector, ContentDetector, detect

        detectors["PySceneDetect Adaptive"] = lambda p: [s.frame_num for s, _ in detect(str(p), AdaptiveDetector())][1:]
        detectors["PySceneDetect Content"] = lambda p: [s.frame_num for s, _ in detect(str(p), ContentDetector())][1:]
    except ImportError:
        pass
    results = {}
    total_frames = sum(n for _, _, n in videos)
    for name, fn in detectors.items():
        tp = fp = miss = 0
        by_kind = {"cut": [0, 0], "gradual": [0, 0]}
        t0 = time.perf_counter()
        for path, truth, _ in videos:
            found = fn(path)
            a, b, c = score(found, truth)
            tp, fp, miss = tp + a, fp + b, miss + c
            for kind in by_kind:
                sub = [t for t in truth if (t.kind == "cut") == (kind == "cut")]
                hits = sum(1 for t in sub if any(t.start - 2 <= f <= t.end + 2 for f in found))
                by_kind[kind][0] += hits
                by_kind[kind][1] += len(sub)
        secs = time.perf_counter() - t0
        results[name] = {**f1(tp, fp, miss), "frames_per_s": round(total_frames / secs, 1),
                         "cut_recall": round(by_kind["cut"][0] / max(1, by_kind["cut"][1]), 3),
                         "gradual_recall": round(by_kind["gradual"][0] / max(1, by_kind["gradual"][1]), 3)}
    base = results.get("PySceneDetect Adaptive", {}).get("f1")
    return {"videos": len(videos), "frames": total_frames,
            "transitions": sum(len(t) for _, t, _ in videos), "detectors": results,
            "f1_vs_adaptive": round(results["dam (TransNetV2)"]["f1"] / base, 3) if base else None}
