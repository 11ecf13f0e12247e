"""Render README.md's benchmark table from benchmarks/results/latest.json:
`python -m benchmarks.readme` replaces what stands between `<!-- bench:main -->` and
`<!-- /bench:main -->` (and the decoders/robustness and vision tables between their own markers), so
the README shows the figures of the last run and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from benchmarks.run import TARGETS

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results" / "latest.json"


def _busy(busy: dict[str, list[float]]) -> str:
    return "; ".join(f"{stage} {', '.join(f'{f:.2f}' for f in fs)}" for stage, fs in busy.items())


def _busy_row(label: str, result: dict) -> list[str]:
    """Why a ratio is what it is: each stage's actors and the load the machine had."""
    if not result.get("busy"):
        return []
    load = f" (load average {result['load_average']})" if "load_average" in result else ""
    return [f"| {label}{load} | {_busy(result['busy'])} | | | |"]


def _target(name: str, met: float | None) -> str:
    goal = TARGETS[name][1]
    return f"≥ {goal:g}×" + ("" if met is not None and met >= goal else " (not met)")


def main_table(r: dict) -> str:
    """The headline table: each row a ratio against a reference measured in the same run."""
    m = r.get("machine", {})
    rows = ["| benchmark | dam | reference | ratio | target |", "|---|---|---|---|---|"]
    if "shots" in r:
        s, det = r["shots"], r["shots"]["detectors"]
        dam, ad, co = det["dam (TransNetV2)"], det["PySceneDetect Adaptive"], det["PySceneDetect Content"]
        rows += [f"| shots: F1 on {s['videos']} generated videos ({s['transitions']} transitions: cuts, dissolves, "
                 f"fades) | {dam['f1']:.3f} | PySceneDetect Adaptive {ad['f1']:.3f}, Content {co['f1']:.3f} | "
                 f"{s['f1_vs_adaptive']:.2f}× | {_target('shots', s['f1_vs_adaptive'])} |",
                 f"| shots: gradual-transition recall | {dam['gradual_recall']:.2f} | Adaptive {ad['gradual_recall']:.2f}, "
                 f"Content {co['gradual_recall']:.2f} | | |",
                 f"| shots: frames/s (CPU, decode included) | {dam['frames_per_s']:,.0f} | PySceneDetect "
                 f"{ad['frames_per_s']:,.0f} | {dam['frames_per_s'] / ad['frames_per_s']:.2f}× | |"]
    if "decode" in r:
        d = r["decode"]
        rows.append(f"| decode: {d['file']}, {d.get('shards', '?')} shards on {d.get('actors', d['cores'])} "
                    f"{d.get('decoder', 'decord')} actors, frames/s | {d['pipeline_fps']} | `ffmpeg -threads {d['cores']} "
                    f"-f null` {d['ffmpeg_fps']} | **{d['ratio']:.2f}×** | {_target('decode', d['ratio'])} |")
        rows += _busy_row("decode: actors busy, fraction of the run", d)
    if "ingest" in r:
        i = r["ingest"]
        rows.append(f"| ingest: {i['files']} ({i['video_seconds']:.0f} s), video s per wall s, all levels"
                    f"{', encoder ' + i['encoder'] if 'encoder' in i else ''} | {i['dam_video_s_per_s']} | "
                    f"`ray.data.read_videos` {i['read_videos_video_s_per_s']} | **{i['ratio']}×** | "
                    f"{_target('ingest', i['ratio'])} |")
        rows += _busy_row("ingest: stage actors busy, fraction of the L1/L2 run", i)
    if "backup" in r:
        b = r["backup"]
        rows += [f"| backup: {b['files']} × {b['megabytes'] // b['files']} MB, MB/s (copy, fsync, read back from disk, "
                 f"2 × BLAKE2b, 2 threads) | {b['backup_mb_s']:.0f} | durable `shutil.copy2` + fsync "
                 f"{b['reference_copy_mb_s']:.0f} | **{b['ratio']:.2f}×** | {_target('backup', b['ratio'])} |",
                 f"| backup again, nothing changed: fraction of the full run | {b['incremental_fraction_of_full']:.2f} | | | |"]
    shown = [v for k, v in r.items() if k in ("shots", "decode", "ingest", "backup")]
    when = sorted(v["when"] for v in shown if "when" in v)
    commits = ", ".join(f"{k} at `{r[k]['commit']}`" for k in ("decode", "ingest") if "commit" in r.get(k, {}))
    head = (f"Measured on a {m.get('cores', '?')}-core {m.get('cpu', '')} machine, no GPU "
            f"({' to '.join(sorted({when[0][:10], when[-1][:10]}))}{'; ' + commits if commits else ''}; "
            f"`python -m benchmarks.readme` renders this table from "
            f"`benchmarks/results/latest.json`):") if when else ""
    return head + "\n\n" + "\n".join(rows)


def robustness_table(r: dict) -> str:
    """Decoders on the pipeline's work and on damaged files; whole damaged card dumps."""
    out = []
    if "decoders" in r:
        d = r["decoders"]
        rows = ["| decoder | H.264 1080p frames/s (÷ ffmpeg) | HEVC 1080p frames/s (÷ ffmpeg) | peak memory "
                "(H.264) | damaged: frames recovered ÷ ffmpeg's |", "|---|---|---|---|---|"]
        h, e = d["speed"]["h264_1080p"], d["speed"]["hevc_1080p"]
        for b in d["backends"]:
            mark = " (default)" if b == d["default"] else ""
            rows.append(f"| {b}{mark} | {h[b]['frames_per_s']} ({h[b]['ratio_vs_ffmpeg']:.2f}×) | {e[b]['frames_per_s']} "
                        f"({e[b]['ratio_vs_ffmpeg']:.2f}×) | {h[b]['peak_rss_mb']:.0f} MB | "
                        f"{d['damaged']['recovered_vs_ffmpeg'][b]:.3f} |")
        rows.append(f"| `ffmpeg -threads 1 -f null` | {h['ffmpeg_frames_per_s']} | {e['ffmpeg_frames_per_s']} | | "
                    f"{d['damaged']['frames']['ffmpeg']} frames from {d['damaged']['videos']} damaged videos |")
        out.append(f"Decoders ({d['when'][:10]}, one thread each, target: the default recovers ≥ 0.9 of ffmpeg's "
                   "frames):\n\n" + "\n".join(rows))
    if "robustness" in r:
        b = r["robustness"]
        rows = ["| card dump (seed) | files (bad) | exit | salvaged (damaged) | reported with a reason | good files lost "
                "| bad files unreported | `dam check` | second run re-indexed |", "|---|---|---|---|---|---|---|---|---|"]
        for x in b["batches"]:
            rows.append(f"| {x['seed']} | {x['files']} ({x['bad']}) | {x['exit_code']} | {x['damaged_salvaged']} | "
                        f"{x['failed_with_reason']} | **{len(x['good_lost'])}** | **{len(x['bad_unreported'])}** | "
                        f"{'consistent' if x['check_ok'] else 'PROBLEMS'} | {x['second_run_indexed']} |")
        out.append(f"Damaged card dumps ({b['when'][:10]}; targets: 0 good files lost, 0 bad files unreported):\n\n"
                   + "\n".join(rows))
        if h := b.get("hostile_picture"):
            out.append(f"A hostile picture: a {h['pixels']} PNG of {h['file_kb']} KB posted to `POST /search/image` is "
                       f"refused with HTTP {h['status']} in {h['seconds']} s; the Api replica's peak memory grew "
                       f"{h['replica_peak_growth_mb']} MB (decoding it takes {h['decoding_it_peak_mb']} MB).")
    return "\n\n".join(out)


def _worst(by_case: dict[str, float]) -> str:
    worst = min(by_case, key=by_case.get)
    return "every case 1.0" if by_case[worst] == 1 else f"{worst} {by_case[worst]:.2f}"


def vision_table(r: dict) -> str:
    """The default vision encoder against the builtin descriptor, from one run."""
    from benchmarks.vision import QUERIES

    v, b, sp = r["vision"], r["vision"]["builtin"], r["vision"]["encoder_cpu"]
    vis = v["vision"]
    known = sum(len(q) for q, k in QUERIES.values() if k)
    unknown = [q for q, k in QUERIES.values() if not k][0]
    misses = f" (misses: {', '.join(f'“{m}”' for m in vis['text_misses'])})" if vis["text_misses"] else ""
    rate, ratio = v["ingest_1080p_video_s_per_s"], v["ratio"]
    rows = ["| measure | builtin | vision | target |", "|---|---|---|---|",
            f"| text → shot recall@1, {known} queries naming a subject ImageNet has, with synonyms | "
            f"{b['text_to_shot_recall_at_1']:.2f} | **{vis['text_to_shot_recall_at_1']:.3f}**{misses} | ≥ 0.9 |",
            f"| … answered by top-3 labels as tags instead of label-space vectors | | "
            f"{vis['text_to_shot_recall_at_1_top3_tags']:.3f} | the better kept: label space |",
            f"| queries naming no class ({', '.join(f'“{q}”' for q in unknown)}): notice given | — | "
            f"{vis['unknown_subjects_noticed']} | |"]
    for label, key in (("the photographs", None), ("generated footage", "generated")):
        bb, vv = (b, vis) if key is None else (b.get(key), vis.get(key))
        if bb and vv:
            rows.append(f"| query by picture recall@1, {vv['picture_queries']} stills of {label}: crop 70 %, flip, "
                        f"±15 % brightness, 200 px wide, JPEG q40, between two sampled frames | "
                        f"{bb['picture_recall_at_1']:.3f} ({_worst(bb['picture_by_case'])}) | "
                        f"**{vv['picture_recall_at_1']:.3f}** ({_worst(vv['picture_by_case'])}) | ≥ 0.95 |")
    rows += [f"| ingest 1080p H.264 on CPU, video s per wall s | {rate['builtin']} | {rate['vision']} | ratio "
             f"**{ratio:.2f}**{'' if ratio >= 0.8 else ' (not met)'} (≥ 0.8) |",
             f"| encoder images/s on CPU, same run | {sp['builtin_images_per_s']} (descriptor) | ONNX "
             f"{sp['vision_onnx_images_per_s']}, PyTorch {sp['vision_torch_images_per_s']} | ONNX kept |"]
    load = f", load average {v['load_average']}" if "load_average" in v else ""
    return (f"Measured {v['when'][:10]} on {r.get('machine', {}).get('cores', '?')} cores{load}; subjects ImageNet-1k "
            f"has no class for: {', '.join(v['subjects_without_a_class'])}.\n\n" + "\n".join(rows))


def replace(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- bench:{name} -->\n).*?(\n<!-- /bench:{name} -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no <!-- bench:{name} --> ... <!-- /bench:{name} --> markers")
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text)


def main() -> None:
    import json

    readme = ROOT / "README.md"
    results = json.loads(RESULTS.read_text())
    text = replace(readme.read_text(), "main", main_table(results))
    if "decoders" in results or "robustness" in results:
        text = replace(text, "robustness", robustness_table(results))
    if "vision" in results:
        text = replace(text, "vision", vision_table(results))
    readme.write_text(text)
    print(f"{readme}: benchmark table rendered from {RESULTS}")


if __name__ == "__main__":
    main()
