"""Index and read the library: scan, ingest, search, info, scenes, jobs, check. (What a command
runs is imported inside it: see dam/cli/__init__.py.)"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from rich.table import Table

from dam.cli.app import EXIT_FAILED, EXIT_PARTIAL, cli, clock, emit, err, library, out, print_errors
from dam.progress import TerminalProgress


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def scan(ctx: click.Context, directory: Path, as_json: bool) -> None:
    """Register the media under DIRECTORY in the catalog (no analysis)."""
    from dam.usecases.index import scan as run

    report = run(library(ctx), directory, implicit_root=True, progress=TerminalProgress(not as_json))
    if not emit(report.model_dump(mode="json"), as_json):
        out.print(f"[bold]{report.root}[/]: {report.seen} files, {report.new} new, {report.changed} changed, "
                  f"{report.unchanged} unchanged, {report.removed} removed, {report.skipped} not media "
                  f"({report.seconds:.1f}s)")
        print_errors(report.errors)
    sys.exit(EXIT_PARTIAL if report.errors else 0)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--levels", type=click.Choice(["L0", "L2", "L3"]), default="L3", show_default=True,
              help="Highest level to build: L0 metadata only, L2 frames and scenes, L3 also cross-library links.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[str, ...], levels: str, as_json: bool) -> None:
    """Index files and folders: metadata, frames, scenes and links."""
    from dam.usecases.index import ingest as run

    report = run(library(ctx), paths, levels, implicit_root=True, progress=TerminalProgress(not as_json))
    if not emit(report.model_dump(mode="json"), as_json):
        speed = f", {report.video_seconds / report.seconds:.1f}× real time" if report.video_seconds and report.seconds else ""
        out.print(f"[bold green]ingested[/] {report.indexed} new or changed, {report.unchanged} unchanged, "
                  f"{report.failed} failed{f', {report.damaged} damaged' * bool(report.damaged)} in "
                  f"{report.seconds:.1f}s{speed} (job {report.job})")
        print_errors(report.errors)
    sys.exit(EXIT_PARTIAL if report.errors else 0)


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (use YYYY-MM-DD)") from None


@cli.command()
@click.argument("text", required=False)
@click.option("--image", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Find moments that look like this picture.")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--type", "kind", type=click.Choice(["video", "image", "audio"]))
@click.option("--after", help="Created on or after YYYY-MM-DD.")
@click.option("--before", help="Created on or before YYYY-MM-DD.")
@click.option("--min-duration", type=float)
@click.option("--max-duration", type=float)
@click.option("--min-height", type=int, help="Minimum picture height (short side), e.g. 1080.")
@click.option("--motion/--no-motion", default=None, help="Only footage with (or analysed and without) motion.")
@click.option("--motion-from", type=float, help="Only footage with motion after this many seconds in.")
@click.option("--motion-to", type=float, help="Only footage with motion before this many seconds in.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def search(ctx: click.Context, text: str | None, image: Path | None, limit: int, kind: str | None, after: str | None,
           before: str | None, min_duration: float | None, max_duration: float | None, min_height: int | None,
           motion: bool | None, motion_from: float | None, motion_to: float | None, as_json: bool) -> None:
    """Find moments by TEXT and/or by example (--image); with only --motion, the moving moments."""
    from dam.search import Filters
    from dam.usecases.index import search as run

    filters = Filters(kind=kind, after=_parse_date(after), before=_parse_date(before), min_duration=min_duration,
                      max_duration=max_duration, min_height=min_height, motion=motion, motion_from=motion_from,
                      motion_to=motion_to)
    if not text and not image and not (filters.on_motion and motion is not False):
        raise click.UsageError("give search TEXT, --image FILE, or both (or --motion)")
    found = run(library(ctx), text, image, limit, filters)
    hits = found.hits
    if found.notice:  # on stderr: --json output stays a list of hits
        err.print(f"[yellow]note:[/] {found.notice}")
    if emit([h.model_dump(mode="json") for h in hits], as_json):
        return
    if not hits:
        out.print("no matches")
        return
    t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for col in ("#", "file", "moment", "score", "level", "why"):
        t.add_column(col, overflow="fold")
    for i, h in enumerate(hits, 1):
        extra = f" (+{h.moments - 1} more)" if h.moments > 1 else ""
        t.add_row(str(i), Path(h.path).name + extra, f"{clock(h.start)}–{clock(h.end)}", f"{h.score:.3f}", h.level, h.why)
    out.print(t)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.argument("asset")
@click.pass_context
def info(ctx: click.Context, asset: str, as_json: bool) -> None:
    """Everything known about ASSET (id, id prefix, content hash or path)."""
    from dam.usecases.assets import asset_detail

    lib = library(ctx)
    a = asset_detail(lib, asset, by_path=True)
    data = a.model_dump(mode="json", exclude={"transcript"})
    # A pair is stored from both ends (each file's ingest links it to the other): list it once.
    seen: set[tuple[str, str]] = set()
    data["relations"] = [r for r in data["relations"]
                         if (r["kind"], r["other_id"]) not in seen and not seen.add((r["kind"], r["other_id"]))]
    tr = a.transcript
    data["transcript"] = None if tr is None else {
        "backend": tr.backend, "language": tr.language, "segments": len(tr.segments),
        "sections": [s.model_dump(mode="json") for s in tr.sections]}
    if emit(data, as_json):
        return
    i = a.info
    out.print(f"[bold]{a.name}[/]  [dim]{a.id}[/]  {a.status}")
    out.print(f"  path      {a.path}")
    if i:
        v = i.video
        out.print(f"  media     {i.kind}, {i.container}, {clock(i.duration)}, {a.size / 1e6:,.1f} MB")
        if v:
            extras = [x for x in (v.pix_fmt, f"{v.bit_depth}-bit" if v.bit_depth else None,
                                  "HDR " + (v.color_transfer or "") if v.hdr else None,
                                  f"rotated {v.rotation}°" if v.rotation else None, "VFR" if v.variable_frame_rate else None) if x]
            out.print(f"  video     {v.codec} {v.width}x{v.height} @ {v.fps or 0:.3f} fps  {' '.join(extras)}")
        for au in i.audio:
            out.print(f"  audio     {au.codec} {au.channels} ch @ {au.sample_rate} Hz")
        for label, val in (("created", i.creation_time), ("camera", " ".join(x for x in (i.make, i.model) if x)), ("timecode", i.timecode)):
            if val:
                out.print(f"  {label:<9} {val}")
    out.print(f"  levels    {a.levels}  encoder {a.encoder}")
    if a.damaged:
        lost = ", ".join(f"{x:.1f}–{y:.1f} s" for x, y in a.damaged[:8]) + (" …" if len(a.damaged) > 8 else "")
        out.print(f"  [yellow]damaged[/]   could not be decoded: {lost}; the rest is indexed")
    if a.rating is not None or a.flag:
        stars = "" if a.rating is None else "★" * a.rating + "☆" * (5 - a.rating)
        out.print(f"  rating    {stars} {a.flag or ''}".rstrip())
    if data["scenes"]:
        out.print(f"  scenes    {len(data['scenes'])}")
        for sc in data["scenes"]:
            out.print(f"    {sc['index'] + 1:>3}  {clock(sc['start'])}–{clock(sc['end'])}  {sc['transition']}")
    if a.error:
        out.print(f"  [red]error[/]     {a.error}")
    if tr is not None:
        out.print(f"  speech    {len(tr.segments)} segments ({tr.backend}, {tr.language}): "
                  + " · ".join(f"{clock(s.start)} {s.title}" for s in tr.sections[:8]))
    if data["motion"] is not None:
        spans = [f"{clock(m['start'])}–{clock(m['end'])}" + (" (camera)" if m["kind"] == "camera" else "")
                 for m in data["motion"]["intervals"]]
        out.print(f"  motion    {', '.join(spans) if spans else 'none'}")
    if (st := data["stems"]) is not None:
        out.print(f"  stems     {st['method']}: {st['dialogue']}, {st['music']}" + ("" if st["present"] else " (missing)"))
    for r in data["relations"]:
        other = lib.asset(r["other_id"])
        off = r["detail"].get("other_starts_at") if r["kind"] == "multicam" else None
        drift = r["detail"].get("drift_ppm")
        where = "" if off is None else (f"  starts at {off:+.4f}s on this clip"
                                        + (f", drift {drift:+.1f} ppm" if drift is not None else ""))
        out.print(f"  {r['kind']:<15} {other.name if other else r['other_id']} ({r['score']:.2f}){where}")


@cli.command()
@click.argument("file")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def scenes(ctx: click.Context, file: str, as_json: bool) -> None:
    """Shots of FILE (indexes it first if it is not in the library yet)."""
    from dam.usecases.index import scenes as run

    report, found = run(library(ctx), file, TerminalProgress(not as_json))
    if report is not None and report.errors:
        print_errors(report.errors)
        sys.exit(EXIT_FAILED)
    if emit([s.model_dump(mode="json") for s in found], as_json):
        return
    t = Table("#", "start", "end", "frames", "transition", "hero", box=None, header_style="bold")
    for s in found:
        t.add_row(str(s.index), clock(s.start), clock(s.end), f"{s.start_frame}–{s.end_frame - 1}", s.transition,
                  clock(s.hero_time))
    out.print(t)


@cli.command()
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def jobs(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Recent jobs with their counts and errors."""
    from dam.usecases.index import jobs as run

    found = run(library(ctx), limit)
    if emit([j.model_dump(mode="json") for j in found], as_json):
        return
    t = Table("job", "kind", "status", "done", "failed", "started", "seconds", box=None, header_style="bold")
    for j in found:
        t.add_row(j.id, j.kind, j.status, f"{j.done}/{j.total}", str(j.failed), j.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                  str(j.detail.get("seconds", "")))
    out.print(t)
    for j in found:
        for e in j.errors[:10]:
            err.print(f"  [yellow]{j.id}[/] {e.path}: {e.reason}")


@cli.command()
@click.option("--no-files", is_flag=True, help="Skip the stat of every file (catalog vs vectors only).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def check(ctx: click.Context, no_files: bool, as_json: bool) -> None:
    """Check that catalog, vectors and files agree (exit 0 consistent, 1 problems). Reads only."""
    from dam.consistency import summary
    from dam.usecases.index import check as run

    report = run(library(ctx), files=not no_files)
    if not emit({**report.model_dump(mode="json"), "ok": report.ok}, as_json):
        out.print(("[bold green]ok[/] " if report.ok else "[bold red]problems[/] ") + summary(report))
        for p in report.problems[:50]:
            err.print(f"  [red]✗[/] {p.kind}: {p.detail}" + (f" [dim]({p.collection})[/]" if p.collection else ""))
        if len(report.problems) > 50:
            err.print(f"  … and {len(report.problems) - 50} more (--json lists all)")
    sys.exit(0 if report.ok else EXIT_FAILED)

