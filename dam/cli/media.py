"""One file or one shoot: sync cameras by audio, transcribe speech, analyse motion."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.table import Table

from dam.cli.app import EXIT_PARTIAL, cli, clock, emit, library, out, write_text


@cli.command("sync")
@click.argument("files", nargs=-1, required=True)
@click.option("--reference", help="Clip whose timeline the others are placed on (default: the longest).")
@click.option("--timeline", "timeline_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the JSON timeline (for an NLE or the Blender export) to this file.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def sync_cmd(ctx: click.Context, files: tuple[str, ...], reference: str | None, timeline_out: Path | None,
             as_json: bool) -> None:
    """Line up clips of one event (files or a folder) by their audio: offset, confidence, drift."""
    from dam.usecases.media import sync_shoot

    if len(files) + (1 if reference and reference not in files else 0) < 2 and not Path(files[0]).is_dir():
        raise click.UsageError("give at least two files, or a folder of them")
    synced = sync_shoot(library(ctx), list(files), reference, implicit_root=True)
    group = synced.group
    if timeline_out:
        write_text(timeline_out, json.dumps(synced.timeline, indent=2))
    if not emit({**group.model_dump(mode="json"), "timeline": synced.timeline}, as_json):
        out.print(f"reference [bold]{Path(group.reference).name}[/]  group {group.group}  ({group.seconds:.1f}s)")
        t = Table("clip", "offset", "drift", "confidence", "±ms", "", box=None, header_style="bold")
        for r in group.results:
            if r.matched:
                drift = f"{r.drift_ppm:+.1f} ppm" if r.drift_ppm is not None else "-"
                t.add_row(Path(r.clip).name, f"{r.offset:+.4f}s", drift, f"{r.confidence:.4f}", f"{r.error_ms:.3f}", "")
            else:
                t.add_row(Path(r.clip).name, "-", "-", f"{r.confidence:.4f}", "-", f"[yellow]{r.reason}[/]")
        for path, why in group.errors.items():
            t.add_row(Path(path).name, "-", "-", "-", "-", f"[red]{why}[/]")
        out.print(t)
    failed = group.errors or any(not r.matched for r in group.results)
    sys.exit(EXIT_PARTIAL if failed else 0)


@cli.command()
@click.argument("file")
@click.option("--srt", "srt_out", type=click.Path(dir_okay=False, path_type=Path), help="Write subtitles (SRT) here.")
@click.option("--vtt", "vtt_out", type=click.Path(dir_okay=False, path_type=Path), help="Write subtitles (WebVTT) here.")
@click.option("--dialogue", is_flag=True, help="Transcribe the dialogue stem (dam separate; made if needed), not the mix.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def transcribe(ctx: click.Context, file: str, srt_out: Path | None, vtt_out: Path | None, dialogue: bool,
               as_json: bool) -> None:
    """Speech to text: segments with word times, sections at long pauses; stored and searchable."""
    from dam.usecases.media import transcribe as run

    done = run(library(ctx), file, implicit_root=True, dialogue=dialogue)
    tr = done.transcript
    for dest, text in ((srt_out, tr.srt()), (vtt_out, tr.vtt())):
        if dest:
            write_text(dest, text)
    if emit({"asset_id": done.asset_id, "audio": "dialogue" if dialogue else "mix", **tr.model_dump(mode="json")},
            as_json):
        return
    out.print(f"[bold]{Path(tr.path).name}[/]  {tr.backend} ({tr.language})  {tr.speech:.1f}s speech of "
              f"{tr.duration:.1f}s, {len(tr.segments)} segments in {tr.seconds:.1f}s")
    for sec in tr.sections:
        out.print(f"\n[bold]{clock(sec.start)}  {sec.title}[/]")
        for s in tr.segments[sec.first:sec.first + sec.count]:
            out.print(f"  {clock(s.start)}–{clock(s.end)}  {s.text}")


def _box(value: str) -> tuple[float, float, float, float]:
    try:
        x, y, w, h = (float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r}: give x,y,w,h as fractions of the frame, e.g. 0,0,0.5,1") from None
    return x, y, w, h


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--sensitivity", type=click.FloatRange(0, 1), help="0 (coarse) to 1 (faint); default DAM_MOTION_SENSITIVITY.")
@click.option("--fps", type=click.FloatRange(0, 120), help="Frames analysed per second (0: all).")
@click.option("--zone", "zones", multiple=True, help="Watch only x,y,w,h (fractions; repeatable).")
@click.option("--mask", "masks", multiple=True, help="Ignore x,y,w,h (fractions; repeatable).")
@click.option("--csv", "csv_out", type=click.Path(path_type=Path, allow_dash=True), help="Write tracks per frame as CSV ('-': stdout).")
@click.option("--tracks-json", type=click.Path(path_type=Path, allow_dash=True), help="Write tracks per frame as JSON.")
@click.option("--json", "as_json", is_flag=True, help="The whole timeline as JSON.")
@click.pass_context
def motion(ctx: click.Context, file: Path, sensitivity: float | None, fps: float | None, zones: tuple[str, ...],
           masks: tuple[str, ...], csv_out: Path | None, tracks_json: Path | None, as_json: bool) -> None:
    """Motion timeline of FILE: when things move, where, and their tracks (stored with the asset)."""
    from dam.motion.timeline import tracks_csv, tracks_per_frame
    from dam.usecases.media import analyse_motion

    lib = library(ctx)
    over = {k: v for k, v in {"sensitivity": sensitivity, "fps": fps}.items() if v is not None}
    if zones:
        over["zones"] = [_box(z) for z in zones]
    if masks:
        over["masks"] = [_box(m) for m in masks]
    done = analyse_motion(lib, file, over, implicit_root=True)
    asset_id, tl = done.asset_id, done.timeline
    info = lib.catalog.asset(asset_id).info if asset_id else None
    size = info.display_size if info else None
    for dest, text in ((csv_out, lambda: tracks_csv(tl.tracks, size)),
                       (tracks_json, lambda: json.dumps(tracks_per_frame(tl.tracks, size), indent=1))):
        if dest is not None:
            click.echo(text(), nl=False) if str(dest) == "-" else dest.write_text(text())
    if csv_out is not None and str(csv_out) == "-" or tracks_json is not None and str(tracks_json) == "-":
        return
    if emit({"asset_id": asset_id, **tl.model_dump(mode="json")}, as_json):
        return
    t = Table("#", "start", "end", "kind", "peak", "tracks", box=None, header_style="bold")
    for n, i in enumerate(tl.intervals, 1):
        t.add_row(str(n), clock(i.start), clock(i.end), i.kind, f"{i.intensity:.3f}", ",".join(map(str, i.tracks)))
    out.print(t if tl.intervals else "no motion")
    speed = tl.duration / tl.seconds if tl.seconds else 0
    out.print(f"[dim]{len(tl.tracks)} track(s); analysed {clock(tl.duration)} at {tl.size[0]}x{tl.size[1]}, "
              f"{tl.fps:g} fps in {tl.seconds:.1f}s ({speed:.0f}× real time)[/]")


@cli.command()
@click.argument("file")
@click.option("--force", is_flag=True, help="Separate again even when stems from the same method exist.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def separate(ctx: click.Context, file: str, force: bool, as_json: bool) -> None:
    """Dialogue and music/effects stems (WAV) of FILE or an asset, kept under the data dir; a re-run reuses them."""
    from dam.progress import TerminalProgress
    from dam.usecases.media import media_asset
    from dam.usecases.media import separate as run

    lib = library(ctx)
    a = media_asset(lib, file)
    progress = TerminalProgress(not as_json)
    progress.start(f"separating {a.name}", max(float(a.info.duration or 0) if a.info else 0.0, 1.0), unit="s")
    done = [0.0]

    def advance(seconds: float) -> None:
        progress.advance(seconds - done[0])
        done[0] = seconds

    try:
        stems = run(lib, a, force=force, on_progress=advance)
    finally:
        progress.finish()
    if emit({"asset_id": a.id, **stems.model_dump(mode="json")}, as_json):
        return
    how = "reused" if stems.reused else f"in {stems.seconds:.1f}s"
    out.print(f"[bold]{a.name}[/]  {stems.method}{f' ({stems.model})' if stems.model else ''}, "
              f"{clock(stems.duration)} at {stems.rate} Hz, {stems.channels} ch, {how}")
    out.print(f"  dialogue  {stems.dialogue}\n  music     {stems.music}")
