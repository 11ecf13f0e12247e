"""Run every benchmark: `python -m benchmarks.run [--only decode,ingest,shots]`.
Prints a table and writes benchmarks/results/latest.json."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

TARGETS = {"decode": ("ratio", 0.9),  # two decoder processes reach ffmpeg -threads 2 (issue 21)
           "ingest": ("ratio", 5.0), "shots": ("f1_vs_adaptive", 1.0),
           "backup": ("ratio", 0.25),  # two BLAKE2b passes (source, copy read back) bound it
           "sync": ("speedup_vs_audio_offset_finder", 10.0), "motion": ("iou_vs_mog2", 1.0),
           "vision": ("ratio", 0.8),  # ingest with the vision stage / without it, 1080p on CPU
           "decoders": ("recovered", 0.9),  # frames the default decoder recovers from damaged files / ffmpeg's
           "separate": ("si_sdr_improvement_db", 1.0)}  # dialogue over the mix at the worst level (music 6 dB under)


def measured_on() -> str:
    """The commit a figure was measured on, `+changes` when the tree had uncommitted edits: a
    README figure names the code it holds for."""
    def git(*args: str) -> str:
        r = subprocess.run(["git", *args], capture_output=True, text=True, cwd=Path(__file__).parent)
        return r.stdout.strip() if r.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    edited = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!benchmarks/results")
    return commit + ("+changes" if edited else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", default="decode,ingest,shots,search,sync,motion", help="also: backup, enrich, scale, vision, decoders, robustness, separate, gpu (needs CUDA)")
    args = ap.parse_args()
    from benchmarks import (
        backup,
        decode,
        decoders,
        enrich,
        gpu,
        ingest,
        motion,
        robustness,
        scale,
        search,
        separate,
        shots,
        sync,
        vision,
    )

    runners = {"decode": decode.run, "ingest": ingest.run, "shots": shots.run, "search": search.run,
               "backup": backup.run, "gpu": gpu.run, "sync": sync.run, "motion": motion.run,
               "enrich": enrich.run, "scale": scale.run, "vision": vision.run,
               "decoders": decoders.run, "robustness": robustness.run, "separate": separate.run}
    out = Path(__file__).parent / "results" / "latest.json"
    results = json.loads(out.read_text()) if out.exists() else {}  # --only refreshes just those entries
    results["machine"] = {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
                          "cores": os.cpu_count()}
    for name in args.only.split(","):
        t0 = time.perf_counter()
        results[name] = runners[name]()
        results[name]["bench_seconds"] = round(time.perf_counter() - t0, 1)
        results[name]["when"] = time.strftime("%Y-%m-%d %H:%M:%S")
        results[name]["commit"] = measured_on()
        results[name].setdefault("load_average", round(os.getloadavg()[0], 1))  # a shared machine says so
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\n{'benchmark':<10} {'measure':<16} {'value':>8} {'target':>8}  ok")
    for name, (field, target) in TARGETS.items():
        if name in results:
            v = results[name][field]
            print(f"{name:<10} {field:<16} {v:>8} {'≥ ' + str(target):>8}  {'yes' if v is not None and v >= target else 'NO'}")
    for name in ("decode", "ingest"):  # why a ratio is what it is: each stage's actors, busy fraction of the run
        if results.get(name, {}).get("busy"):
            print(f"  {name} actors busy: " + "; ".join(f"{stage} {' '.join(f'{f:.2f}' for f in fs)}"
                                                     for stage, fs in results[name]["busy"].items()))
    if "shots" in results:
        for det, r in results["shots"]["detectors"].items():
            print(f"  {det:<24} F1 {r['f1']:.3f}  cuts {r['cut_recall']:.2f}  gradual {r['gradual_recall']:.2f}  {r['frames_per_s']:>7} fps")
    for size, r in results.get("search", {}).items():
        if isinstance(r, dict) and "recall_at_10" in r:
            print(f"search {size:>5}: recall@10 {r['recall_at_10']} (≥ 0.95) at ef_search {r.get('ef_search')}; "
                  f"far (text-like) queries {r.get('recall_at_10_far_queries')}")
            l2 = r.get("with_scene_vectors", {})
            for name, m in [*r.items(), *((f"{k} +{l2['l2_vectors']} L2", v) for k, v in l2.items())]:
                if name.split()[0].endswith("_clients"):
                    print(f"    {name:<10} p50 {m['p50_ms']} ms (< 30)  p99 {m['p99_ms']} ms (< 150)  "
                          f"{m['throughput_rps']} req/s")
    if "sync" in results and "dam" in results["sync"]:
        s = results["sync"]
        print(f"sync: dam median error {s['dam']['median_abs_error_ms']} ms (≤ 1)  "
              + "  ".join(f"{k}: {v.get('median_abs_error_ms', v.get('error'))} ms, {v.get('seconds_per_pair')} s/pair"
                          for k, v in s.items() if k in ("dam", "audio_offset_finder", "syncstart")))
        for snr, t in s.get("transcription", {}).items():
            print(f"  speech {snr}: WER {t['wer']}  RTF {t['rtf']}")
    if "motion" in results:
        m = results["motion"]
        for mode in ("analyse_10fps", "analyse_every_frame"):
            r = m["speed_1080p"][mode]
            print(f"  motion 1080p {mode:<20} {r['frames_per_s_per_core']:>7} frames/s/core  "
                  f"{r['x_real_time_per_core']}× real time per core")
        a = m["accuracy"]
        print(f"  motion IoU dam {a['dam_mean_iou']} vs MOG2 {a['mog2_mean_iou']}; false-positive s "
              f"{a['dam_false_positive_s']} vs {a['mog2_false_positive_s']}")
        p = m["preview"]
        print(f"  preview latency p50 {p['latency_p50_ms']} ms p95 {p['latency_p95_ms']} ms, "
              f"{p['source_dropped_frames']} dropped of {p['frames_captured']}")
    if "scale" in results:
        sc = results["scale"]
        for n, r in sc["throughput"].items():
            print(f"  scale {n:<8} {r['video_s_per_s']} video s/s end to end, {r['steady_video_s_per_s']} steady, "
                  f"efficiency {r.get('efficiency')} / {r.get('steady_efficiency')}")
        print(f"  scale peak RSS by stage: {sc['memory']}; long ÷ short {sc['memory_growth_long_vs_short']}")
    for level, r in results.get("separate", {}).get("levels", {}).items():
        print(f"  separate {level:<12} SI-SDR {r['mix_si_sdr_db']:+6.2f} -> {r['dialogue_si_sdr_db']:+6.2f} dB "
              f"({r['si_sdr_improvement_db']:+.2f})  WER mix {r['wer_mix']:.2f} -> dialogue {r['wer_dialogue']:.2f}  "
              f"{r['x_real_time']}x real time")
    print(f"\nfull results: {out}")


if __name__ == "__main__":
    main()
