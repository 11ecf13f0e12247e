"""`dam`: the command line. Every command calls the same Library methods the HTTP API does.

Exit codes: 0 done; 1 failed; 2 bad usage; 3 finished, but some files could not be processed
(listed in the summary and in `dam jobs`); 4 not found."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from dam.config import Settings
from dam.paths import PathNotAllowed
from dam.progress import TerminalProgress

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

EXIT_FAILED, EXIT_PARTIAL, EXIT_NOT_FOUND = 1, 3, 4


def _library(ctx: click.Context):
    if "library" not in ctx.obj:
        from dam.library import Library

        ctx.obj["library"] = Library(ctx.obj["settings"])
    return ctx.obj["library"]


def _emit(data, as_json: bool) -> bool:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))
    return as_json


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    m, s = divmod(max(0.0, seconds), 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:05.2f}" if h else f"{m:d}:{s:05.2f}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(path_type=Path), help="Library data folder (default ./dam-data, env DAM_DATA_DIR).")
@click.option("--encoder", type=click.Choice(["builtin", "clip"]), help="Visual encoder (env DAM_ENCODER).")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, encoder: str | None) -> None:
    """dam: index footage, find any moment by text or by example."""
    overrides = {k: v for k, v in {"data_dir": data_dir, "encoder": encoder}.items() if v is not None}
    try:
        ctx.obj = {"settings": Settings(**overrides)}
    except Exception as e:  # pydantic ValidationError: a bad DAM_* value
        raise click.UsageError(f"bad configuration: {e}") from None


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def scan(ctx: click.Context, directory: Path, as_json: bool) -> None:
    """Register the media under DIRECTORY in the catalog (no analysis)."""
    lib = _library(ctx)
    try:
        report = lib.scan(directory, implicit_root=True, progress=TerminalProgress(not as_json))
    except (NotADirectoryError, PathNotAllowed) as e:
        err.print(f"[red]error:[/] {e}")
        sys.exit(EXIT_FAILED)
    if not _emit(report.model_dump(mode="json"), as_json):
        out.print(f"[bold]{report.root}[/]: {report.seen} files, {report.new} new, {report.changed} changed, "
                  f"{report.unchanged} unchanged, {report.removed} removed, {report.skipped} not media "
                  f"({report.seconds:.1f}s)")
        _print_errors(report.errors)
    sys.exit(EXIT_PARTIAL if report.errors else 0)


def _print_errors(errors) -> None:
    if not errors:
        return
    hurt = sum(e.stage == "damaged" for e in errors)
    failed = len(errors) - hurt
    parts = [f"{failed} file(s) could not be processed"] * bool(failed)
    parts += [f"{hurt} damaged file(s) indexed for what decodes"] * bool(hurt)
    err.print(f"[yellow]{', '.join(parts)}:[/]")
    for e in errors[:50]:
        err.print(f"  [yellow]✗[/] {e.path}: {e.reason} [dim]({e.stage})[/]")
    if len(errors) > 50:
        err.print(f"  … and {len(errors) - 50} more (see `dam jobs`)")


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--levels", type=click.Choice(["L0", "L2", "L3"]), default="L3", show_default=True,
              help="Highest level to build: L0 metadata only, L2 frames and scenes, L3 also cross-library links.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[str, ...], levels: str, as_json: bool) -> None:
    """Index files and folders: metadata, frames, scenes and links."""
    lib = _library(ctx)
    report = lib.ingest(paths, implicit_root=True, levels=levels, progress=TerminalProgress(not as_json))
    if not _emit(report.model_dump(mode="json"), as_json):
        speed = f", {report.video_seconds / report.seconds:.1f}× real time" if report.video_seconds and report.seconds else ""
        out.print(f"[bold green]ingested[/] {report.indexed} new or changed, {report.unchanged} unchanged, "
                  f"{report.failed} failed{f', {report.damaged} damaged' * bool(report.damaged)} in "
                  f"{report.seconds:.1f}s{speed} (job {report.job})")
        _print_errors(report.errors)
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

    filters = Filters(kind=kind, after=_parse_date(after), before=_parse_date(before), min_duration=min_duration,
                      max_duration=max_duration, min_height=min_height, motion=motion, motion_from=motion_from,
                      motion_to=motion_to)
    if not text and not image and not (filters.on_motion and motion is not False):
        raise click.UsageError("give search TEXT, --image FILE, or both (or --motion)")
    lib = _library(ctx)
    picture = None
    if image:
        from dam.library import _read_image
        from dam.media.decode import DecodeError

        try:
            picture = _read_image(image)[0]
        except DecodeError as e:
            err.print(f"[red]error:[/] {image}: {e}")
            sys.exit(EXIT_FAILED)
    from dam.encoders.clip import EncoderError

    try:
        q = lib.encode_query(text, picture)
    except EncoderError as e:  # clip weights missing, not downloadable, corrupt: say what to do
        err.print(f"[red]error:[/] {e}")
        sys.exit(EXIT_FAILED)
    hits = lib.search(limit=limit, filters=filters, query=q)
    from dam.search import unknown_subject

    if notice := unknown_subject(text, q.visual_text):  # on stderr: --json output stays a list of hits
        err.print(f"[yellow]note:[/] {notice}")
    if _emit([h.model_dump(mode="json") for h in hits], as_json):
        return
    if not hits:
        out.print("no matches")
        return
    t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for col in ("#", "file", "moment", "score", "level", "why"):
        t.add_column(col, overflow="fold")
    for i, h in enumerate(hits, 1):
        extra = f" (+{h.moments - 1} more)" if h.moments > 1 else ""
        t.add_row(str(i), Path(h.path).name + extra, f"{_clock(h.start)}–{_clock(h.end)}", f"{h.score:.3f}", h.level, h.why)
    out.print(t)


@cli.command()
@click.argument("asset")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def info(ctx: click.Context, asset: str, as_json: bool) -> None:
    """Everything known about ASSET (id, id prefix, content hash or path)."""
    lib = _library(ctx)
    a = lib.asset(asset)
    if a is None:
        err.print(f"[red]no asset[/] matches {asset!r}")
        sys.exit(EXIT_NOT_FOUND)
    data = a.model_dump(mode="json")
    data["scenes"] = [s.model_dump(mode="json") for s in lib.catalog.scenes(a.id)]
    # A pair is stored from both ends (each file's ingest links it to the other): list it once.
    seen: set[tuple[str, str]] = set()
    data["relations"] = [r.model_dump(mode="json") for r in lib.catalog.relations(a.id)
                         if (r.kind, r.other_id) not in seen and not seen.add((r.kind, r.other_id))]
    from dam.library_ops.albums import rating_of
    from dam.speech import transcript_of

    rating = rating_of(lib.catalog, a.id)
    data["rating"], data["flag"] = rating.rating, rating.flag

    tr = transcript_of(lib, a.id)
    data["transcript"] = None if tr is None else {
        "backend": tr.backend, "language": tr.language, "segments": len(tr.segments),
        "sections": [s.model_dump(mode="json") for s in tr.sections]}

    from dam.motion.store import summary

    data["motion"] = summary(lib.catalog, a.id)
    from dam.audio.separate_store import summary as stems_summary

    data["stems"] = stems_summary(lib.catalog, a.id)
    if _emit(data, as_json):
        return
    i = a.info
    out.print(f"[bold]{a.name}[/]  [dim]{a.id}[/]  {a.status}")
    out.print(f"  path      {a.path}")
    if i:
        v = i.video
        out.print(f"  media     {i.kind}, {i.container}, {_clock(i.duration)}, {a.size / 1e6:,.1f} MB")
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
    if rating.rating is not None or rating.flag:
        stars = "" if rating.rating is None else "★" * rating.rating + "☆" * (5 - rating.rating)
        out.print(f"  rating    {stars} {rating.flag or ''}".rstrip())
    if data["scenes"]:
        out.print(f"  scenes    {len(data['scenes'])}")
        for sc in data["scenes"]:
            out.print(f"    {sc['index'] + 1:>3}  {_clock(sc['start'])}–{_clock(sc['end'])}  {sc['transition']}")
    if a.error:
        out.print(f"  [red]error[/]     {a.error}")
    if tr is not None:
        out.print(f"  speech    {len(tr.segments)} segments ({tr.backend}, {tr.language}): "
                  + " · ".join(f"{_clock(s.start)} {s.title}" for s in tr.sections[:8]))
    if data["motion"] is not None:
        spans = [f"{_clock(m['start'])}–{_clock(m['end'])}" + (" (camera)" if m["kind"] == "camera" else "")
                 for m in data["motion"]["intervals"]]
        out.print(f"  motion    {', '.join(spans) if spans else 'none'}")
    if data["stems"] is not None:
        st = data["stems"]
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
    lib = _library(ctx)
    a = lib.asset(file)
    if a is None or a.status != "indexed":
        if not Path(file).exists():
            err.print(f"[red]no asset or file[/] {file!r}")
            sys.exit(EXIT_NOT_FOUND)
        report = lib.ingest([file], implicit_root=True, levels="L2", progress=TerminalProgress(not as_json))
        if report.errors:
            _print_errors(report.errors)
            sys.exit(EXIT_FAILED)
        a = lib.asset(file)
    found = lib.catalog.scenes(a.id)
    if _emit([s.model_dump(mode="json") for s in found], as_json):
        return
    t = Table("#", "start", "end", "frames", "transition", "hero", box=None, header_style="bold")
    for s in found:
        t.add_row(str(s.index), _clock(s.start), _clock(s.end), f"{s.start_frame}–{s.end_frame - 1}", s.transition,
                  _clock(s.hero_time))
    out.print(t)


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
    from dam.audio.load import AudioError
    from dam.multicam import sync

    if len(files) + (1 if reference and reference not in files else 0) < 2 and not Path(files[0]).is_dir():
        raise click.UsageError("give at least two files, or a folder of them")
    lib = _library(ctx)
    try:
        group, timeline = sync(lib, list(files), implicit_root=True, reference=reference)
    except (AudioError, PathNotAllowed) as e:
        err.print(f"[red]error:[/] {e}")
        sys.exit(EXIT_FAILED)
    if timeline_out:
        tmp = timeline_out.with_name(f".{timeline_out.name}.part")
        tmp.write_text(json.dumps(timeline, indent=2))
        tmp.replace(timeline_out)
    if not _emit({**group.model_dump(mode="json"), "timeline": timeline}, as_json):
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
    from dam.audio.load import AudioError
    from dam.audio.transcribe import TranscribeConfigError
    from dam.scan import register
    from dam.speech import store, transcribe_file

    lib = _library(ctx)
    try:
        path = lib.allowed(file, implicit_root=True)
    except PathNotAllowed as e:
        err.print(f"[red]error:[/] {e}")
        sys.exit(EXIT_FAILED)
    if not path.is_file():
        err.print(f"[red]no such file[/] {file!r}")
        sys.exit(EXIT_NOT_FOUND)
    reg = register(lib.catalog, path)
    from dam.audio.separate import SeparationConfigError, SeparationError
    from dam.audio.separate_store import separate_asset

    try:
        source = str(path)
        if dialogue:  # the stem is as long as the file, so word times hold for the file
            if reg.asset is None:
                raise SeparationError(f"{path.name}: {reg.error or 'not a media file'}")
            source = separate_asset(lib, lib.catalog.asset(reg.asset)).dialogue
        tr = transcribe_file(lib.settings, source).model_copy(update={"path": str(path)})
    except (TranscribeConfigError, SeparationConfigError) as e:
        raise click.UsageError(str(e)) from None
    except (AudioError, SeparationError) as e:
        err.print(f"[red]error:[/] {e}")
        sys.exit(EXIT_FAILED)
    if reg.asset:
        store(lib, reg.asset, tr)
    for dest, text in ((srt_out, tr.srt()), (vtt_out, tr.vtt())):
        if dest:
            tmp = dest.with_name(f".{dest.name}.part")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(dest)
    if _emit({"asset_id": reg.asset, "audio": "dialogue" if dialogue else "mix", **tr.model_dump(mode="json")}, as_json):
        return
    out.print(f"[bold]{path.name}[/]  {tr.backend} ({tr.language})  {tr.speech:.1f}s speech of {tr.duration:.1f}s, "
              f"{len(tr.segments)} segments in {tr.seconds:.1f}s")
    for sec in tr.sections:
        out.print(f"\n[bold]{_clock(sec.start)}  {sec.title}[/]")
        for s in tr.segments[sec.first:sec.first + sec.count]:
            out.print(f"  {_clock(s.start)}–{_clock(s.end)}  {s.text}")
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
    from dam.media.decode import DecodeError
    from dam.motion.model import MotionParams
    from dam.motion.timeline import tracks_csv, tracks_per_frame

    lib = _library(ctx)
    over = {k: v for k, v in {"sensitivity": sensitivity, "fps": fps}.items() if v is not None}
    if zones:
        over["zones"] = [_box(z) for z in zones]
    if masks:
        over["masks"] = [_box(m) for m in masks]
    try:
        params = MotionParams.from_settings(ctx.obj["settings"], **over)
        asset_id, tl = lib.motion(file, params, implicit_root=True)
    except (FileNotFoundError, PathNotAllowed) as e:
        err.print(f"[red]error:[/] {e}")
        sys.exit(EXIT_NOT_FOUND if isinstance(e, FileNotFoundError) else EXIT_FAILED)
    except DecodeError as e:
        err.print(f"[red]error:[/] {file}: {e}")
        sys.exit(EXIT_FAILED)
    info = lib.catalog.asset(asset_id).info if asset_id else None
    size = info.display_size if info else None
    for dest, text in ((csv_out, lambda: tracks_csv(tl.tracks, size)),
                       (tracks_json, lambda: json.dumps(tracks_per_frame(tl.tracks, size), indent=1))):
        if dest is not None:
            click.echo(text(), nl=False) if str(dest) == "-" else dest.write_text(text())
    if csv_out is not None and str(csv_out) == "-" or tracks_json is not None and str(tracks_json) == "-":
        return
    if _emit({"asset_id": asset_id, **tl.model_dump(mode="json")}, as_json):
        return
    t = Table("#", "start", "end", "kind", "peak", "tracks", box=None, header_style="bold")
    for n, i in enumerate(tl.intervals, 1):
        t.add_row(str(n), _clock(i.start), _clock(i.end), i.kind, f"{i.intensity:.3f}", ",".join(map(str, i.tracks)))
    out.print(t if tl.intervals else "no motion")
    speed = tl.duration / tl.seconds if tl.seconds else 0
    out.print(f"[dim]{len(tl.tracks)} track(s); analysed {_clock(tl.duration)} at {tl.size[0]}x{tl.size[1]}, "
              f"{tl.fps:g} fps in {tl.seconds:.1f}s ({speed:.0f}× real time)[/]")


@cli.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1, env DAM_HOST). 0.0.0.0 exposes it: set DAM_API_TOKEN.")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default 8000, env DAM_PORT).")
@click.option("--root", "roots", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Media root the server may read (repeatable; default DAM_MEDIA_ROOTS, else the current folder).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, roots: tuple[Path, ...]) -> None:
    """Start the HTTP API and web UI (Ray Serve) on embedded defaults."""
    from dam.serve.app import PortInUse, run

    settings = ctx.obj["settings"]
    update = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    if roots:
        update["media_roots"] = list(roots)
    elif not settings.media_roots:
        update["media_roots"] = [Path.cwd()]
    settings = settings.model_copy(update=update)
    if settings.host not in ("127.0.0.1", "localhost", "::1") and not settings.api_token:
        err.print("[yellow]warning:[/] listening beyond this machine without DAM_API_TOKEN: anyone can ingest")
    err.print(f"dam serving http://{settings.host}:{settings.port}  (media roots: "
              f"{', '.join(str(r) for r in settings.resolved_roots())}; Ctrl-C stops)")
    try:
        run(settings, blocking=True)
    except PortInUse as e:
        err.print(f"[red]error:[/] {e}")
        sys.exit(EXIT_FAILED)


@cli.command()
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def jobs(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Recent jobs with their counts and errors."""
    lib = _library(ctx)
    found = lib.catalog.jobs(limit)
    if _emit([j.model_dump(mode="json") for j in found], as_json):
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
    from dam.consistency import check_library, summary

    report = check_library(_library(ctx), files=not no_files)
    if not _emit({**report.model_dump(mode="json"), "ok": report.ok}, as_json):
        out.print(("[bold green]ok[/] " if report.ok else "[bold red]problems[/] ") + summary(report))
        for p in report.problems[:50]:
            err.print(f"  [red]✗[/] {p.kind}: {p.detail}" + (f" [dim]({p.collection})[/]" if p.collection else ""))
        if len(report.problems) > 50:
            err.print(f"  … and {len(report.problems) - 50} more (--json lists all)")
    sys.exit(0 if report.ok else EXIT_FAILED)


@cli.command()
@click.option("--to", "dest", required=True, type=click.Path(file_okay=False, path_type=Path), help="Backup root (local, NAS or SMB mount).")
@click.option("--dry-run", is_flag=True, help="Only say what would be copied.")
@click.option("--verify", "verify_only", is_flag=True, help="Re-hash the backup instead; damaged copies are recopied next run.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def backup(ctx: click.Context, dest: Path, dry_run: bool, verify_only: bool, as_json: bool) -> None:
    """Incremental, verified backup of originals, catalog and derived data to DEST."""
    from dam.library_ops.backup import BackupError, verify
    from dam.library_ops.backup import backup as run_backup
    from dam.library_ops.jobs import JobTracker

    lib = _library(ctx)
    try:
        if verify_only:
            v = verify(dest)
            if not _emit(v.model_dump(mode="json"), as_json):
                out.print(f"checked {v.checked} files in {v.root}: {len(v.errors)} damaged or missing")
                _print_errors(v.errors)
            sys.exit(EXIT_PARTIAL if v.errors else 0)
        tracker = None if dry_run else JobTracker(lib.catalog, "backup", TerminalProgress(not as_json), {"to": str(dest)})
        try:
            report = run_backup(lib.settings, lib.catalog, dest, dry_run, tracker, tracker and tracker.job)
        except BaseException:
            if tracker:
                tracker.close("failed")
            raise
    except BackupError as e:
        err.print(f"[red]error:[/] {e}")
        sys.exit(EXIT_FAILED)
    if tracker:
        tracker.close("done", copied=report.copied, skipped=report.skipped, bytes=report.bytes_copied)
    if not _emit(report.model_dump(mode="json"), as_json):
        verb = "would copy" if dry_run else "copied"
        out.print(f"[bold]{report.root}[/]: {verb} {report.copied} ({report.bytes_copied / 1e6:,.1f} MB), "
                  f"{report.skipped} unchanged, {report.failed} failed in {report.seconds:.1f}s")
        for rel in report.planned[:50]:
            out.print(f"  + {rel}")
        _print_errors(report.errors)
    sys.exit(EXIT_PARTIAL if report.errors else 0)


@cli.command()
@click.option("--from", "source", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--no-originals", is_flag=True, help="Restore the catalog and derived data only.")
@click.option("--dry-run", is_flag=True)
@click.option("--force", is_flag=True, help="Replace a library already in the data dir.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def restore(ctx: click.Context, source: Path, no_originals: bool, dry_run: bool, force: bool, as_json: bool) -> None:
    """Bring a library back from a backup: catalog, vectors, thumbnails and missing originals."""
    from dam.library_ops.backup import BackupError
    from dam.library_ops.restore import restore as run_restore

    try:
        report = run_restore(ctx.obj["settings"], source, not no_originals, dry_run, force, TerminalProgress(not as_json))
    except BackupError as e:
        err.print(f"[red]error:[/] {e}")
        sys.exit(EXIT_FAILED)
    if not _emit(report.model_dump(mode="json"), as_json):
        out.print(f"restored {report.restored} files into {report.data_dir}, {report.skipped} originals already in "
                  f"place, {report.failed} failed in {report.seconds:.1f}s")
        _print_errors(report.errors)
    sys.exit(EXIT_PARTIAL if report.errors else 0)


@cli.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--check", "check_only", is_flag=True, help="Validate only; run nothing.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def workflow(ctx: click.Context, file, check_only: bool, as_json: bool) -> None:
    """Run a workflow file: {"workflow": [{"action": "sync_album" | "scan" | "ingest" | "backup" | "stats" | "export", ...}]}.
    The whole file is validated before any step runs."""
    from dam.library_ops import workflow as wfl

    try:
        wf = wfl.parse(json.load(file))
        lib = _library(ctx)
        wfl.check(lib, wf, wfl.cli_backup_root(lib))
    except (json.JSONDecodeError, wfl.WorkflowError) as e:
        problems = getattr(e, "problems", None) or [f"not JSON: {e}"]
        if not _emit({"error": "invalid_workflow", "detail": problems}, as_json):
            err.print("[red]invalid workflow, nothing ran:[/]")
            for p in problems:
                err.print(f"  ✗ {p}")
        sys.exit(2)
    if check_only:
        _emit({"ok": True, "steps": [s.action for s in wf.workflow]}, as_json) or out.print(f"valid: {len(wf.workflow)} steps")
        return
    tracker, report = wfl.start(lib, wf)
    report = wfl.run(lib, wf, tracker, report, wfl.cli_backup_root(lib), TerminalProgress(not as_json))
    if not _emit(report.model_dump(mode="json"), as_json):
        for s in report.steps:
            colour = {"done": "green", "partial": "yellow", "failed": "red"}.get(s.status, "dim")
            out.print(f"  [{colour}]{s.status:<8}[/] {s.index}. {s.action} (job {s.job}){' — ' + s.error if s.error else ''}")
    sys.exit(EXIT_FAILED if report.status == "failed" else EXIT_PARTIAL if any(s.status == "partial" for s in report.steps) else 0)


@cli.command("export")
@click.argument("fmt", metavar="FORMAT")
@click.argument("assets", nargs=-1)
@click.option("--album", help="Export an album's assets (name, category/name or id).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write into.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def export_cmd(ctx: click.Context, fmt: str, assets: tuple[str, ...], album: str | None, out_dir: Path, as_json: bool) -> None:
    """Write ASSETS (default: the whole library) as FORMAT: xmp sidecars, stock CSVs (adobe-stock, shutterstock,
    pond5), timelines (edl, fcpxml, otio, srt, vtt) or a Blender script (blender)."""
    from dam.library_ops.exports import FORMATS, export, select

    if fmt not in FORMATS:
        raise click.BadParameter(f"{fmt!r}: use one of {', '.join(FORMATS)}", param_hint="FORMAT")
    lib = _library(ctx)
    try:
        chosen = select(lib, list(assets), album)
    except KeyError as e:
        err.print(f"[red]not found:[/] {e.args[0]}")
        sys.exit(EXIT_NOT_FOUND)
    report = export(lib, fmt, chosen, out_dir)
    if not _emit(report.model_dump(mode="json"), as_json):
        out.print(f"{fmt}: {report.assets} assets → {len(report.files)} files in {report.folder}")
        for w in report.warnings:
            err.print(f"  [yellow]![/] {w}")
        _print_errors(report.errors)
    sys.exit(EXIT_PARTIAL if report.errors else 0)


@cli.command("sync-album")
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("album")
@click.option("--category", default="", help="Folder the album sits in (e.g. a client or year).")
@click.option("--mode", type=click.Choice(["link", "copy"]), default="link", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def sync_album_cmd(ctx: click.Context, root: Path, album: str, category: str, mode: str, as_json: bool) -> None:
    """Make ALBUM mirror the media under ROOT, as catalog entries and a folder of links or copies."""
    from pydantic import ValidationError

    from dam.library_ops.albums import AlbumSpec, sync_album

    try:
        spec = AlbumSpec(root=str(root), album=album, category=category, mode=mode)
    except ValidationError as e:
        raise click.BadParameter(e.errors()[0]["msg"]) from None
    lib = _library(ctx)
    real = lib.allowed(root, implicit_root=True)
    lib.scan(real, implicit_root=True, progress=TerminalProgress(not as_json))
    report = sync_album(lib.catalog, lib.settings.albums_dir, spec, real, TerminalProgress(not as_json))
    if not _emit(report.model_dump(mode="json"), as_json):
        out.print(f"album [bold]{report.album}[/] ({report.members} items, +{report.added} −{report.removed}) at {report.folder}")
        _print_errors(report.errors)
    sys.exit(EXIT_PARTIAL if report.errors else 0)


@cli.command()
@click.argument("asset")
@click.option("--stars", type=click.IntRange(0, 5), help="Rating, 0–5.")
@click.option("--pick", is_flag=True, help="Flag as a pick.")
@click.option("--reject", is_flag=True, help="Flag as a reject.")
@click.option("--unflag", is_flag=True, help="Clear the pick/reject flag.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def rate(ctx: click.Context, asset: str, stars: int | None, pick: bool, reject: bool, unflag: bool,
         as_json: bool) -> None:
    """Rate ASSET (stars) and/or flag it as a pick or a reject."""
    from dam.library_ops.albums import set_rating

    chosen = [name for name, on in (("--pick", pick), ("--reject", reject), ("--unflag", unflag)) if on]
    if len(chosen) > 1:  # one flag per asset: which one was meant is not for us to guess
        raise click.UsageError(f"{' and '.join(chosen)} exclude each other: give one")
    flag = "pick" if pick else "reject" if reject else "" if unflag else None
    lib = _library(ctx)
    a = lib.asset(asset)
    if a is None:
        err.print(f"[red]no asset[/] matches {asset!r}")
        sys.exit(EXIT_NOT_FOUND)
    r = set_rating(lib.catalog, a.id, stars, flag)
    if not _emit(r.model_dump(mode="json"), as_json):
        out.print(f"{a.name}: {'★' * (r.rating or 0)}{'☆' * (5 - (r.rating or 0))} {r.flag or ''}")


@cli.command("albums")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def albums_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the albums: category, name, members, mode and folder."""
    from dam.library_ops.albums import album_folder, albums

    lib = _library(ctx)
    found = albums(lib.catalog)
    if _emit(found, as_json):
        return
    if not found:
        out.print("no albums (dam sync-album FOLDER NAME makes one)")
    for a in found:
        name = f"{a['category']}/{a['name']}" if a["category"] else a["name"]
        out.print(f"{name}  {a['members']} items  {a['mode']}  "
                  f"{album_folder(lib.settings.albums_dir, a['category'], a['name'])}")


@cli.command()
@click.argument("assets", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def enrich(ctx: click.Context, assets: tuple[str, ...], as_json: bool) -> None:
    """Tag, classify and describe ASSETS (default: every asset); people's edits are kept."""
    from dam.enrich.run import enrich_assets
    from dam.enrich.store import view

    lib = _library(ctx)
    found = [lib.asset(ref) for ref in assets]
    if None in found:
        err.print(f"[red]no asset[/] matches {assets[found.index(None)]!r}")
        sys.exit(EXIT_NOT_FOUND)
    todo = found or lib.catalog.assets(limit=1_000_000)
    failed = enrich_assets(lib, todo, TerminalProgress(not as_json))
    views = [v.model_dump(mode="json") for a in todo if (v := view(lib.catalog, a.id))]
    if not _emit({"enriched": views, "errors": [{"path": p, "reason": r} for p, r in failed]}, as_json):
        for v in views:
            out.print(f"[bold]{v['asset_id'][:12]}[/] {v['description']}")
        for p, r in failed:
            err.print(f"[red]failed[/] {p}: {r}")
    sys.exit(EXIT_PARTIAL if failed else 0)


@cli.command()
@click.argument("asset")
@click.option("--add", multiple=True, help="Tag to add (repeatable).")
@click.option("--remove", multiple=True, help="Tag to remove; re-runs will not bring it back (repeatable).")
@click.option("--description", help="Replace the generated description for good.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def tag(ctx: click.Context, asset: str, add: tuple[str, ...], remove: tuple[str, ...], description: str | None,
        as_json: bool) -> None:
    """Show or edit ASSET's tags and description."""
    from dam.enrich.store import edit, view

    lib = _library(ctx)
    a = lib.asset(asset)
    if a is None:
        err.print(f"[red]no asset[/] matches {asset!r}")
        sys.exit(EXIT_NOT_FOUND)
    if add or remove or description is not None:
        edit(lib.catalog, a.id, add, remove, description)
    v = view(lib.catalog, a.id)
    if not _emit(v.model_dump(mode="json") if v else {"asset_id": a.id, "labels": []}, as_json):
        out.print(f"[bold]{a.name}[/]: {v.description if v else '(not enriched: dam enrich)'}")
        for lb in v.labels if v else []:
            out.print(f"  {lb.facet:>14}  {lb.name}  [dim]{lb.source} {lb.confidence:.2f}[/]")


@cli.command()
@click.argument("assets", nargs=-1)
@click.option("--target", "target_name", required=True, help="A target from DAM_PUBLISH_TARGETS.")
@click.option("--album", help="Publish this album's assets.")
@click.option("--dry-run", is_flag=True, help="Curate and package, upload nothing.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def publish(ctx: click.Context, assets: tuple[str, ...], target_name: str, album: str | None, dry_run: bool,
            as_json: bool) -> None:
    """Curate ASSETS (default: all) and upload media, XMP sidecars and the target's CSV."""
    from dam.library_ops.exports import select
    from dam.publish.remote import PublishError
    from dam.publish.run import publish as run_publish
    from dam.publish.target import PublishConfigError

    lib = _library(ctx)
    try:
        chosen = select(lib, list(assets), album)
    except KeyError as e:
        err.print(f"[red]{e.args[0]}[/]")
        sys.exit(EXIT_NOT_FOUND)
    try:
        report = run_publish(lib, target_name, chosen, dry_run)
    except PublishConfigError as e:
        raise click.UsageError(str(e)) from None
    except PublishError as e:
        err.print(f"[red]publish failed, nothing sent:[/] {e}")
        sys.exit(EXIT_FAILED)
    if not _emit(report.model_dump(mode="json"), as_json):
        out.print(f"{'plan for' if report.dry_run else 'published to'} {report.destination}: "
                  f"{len(report.published)} assets, {len(report.uploads)} files")
        for u in report.uploads:
            out.print(f"  {u.status:>8}  {u.remote}  ({u.size} bytes) {u.detail}")
        for p in report.held:
            err.print(f"  [yellow]held[/] {p.name}: {p.message}")
    sys.exit(EXIT_PARTIAL if report.failed else 0)


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path), default=Path("dam-samples"))
@click.pass_context
def samples(ctx: click.Context, folder: Path) -> None:
    """Generate sample footage (shots with cuts, dissolves and fades) into FOLDER."""
    from dam.samples import make_sample_library

    for p in make_sample_library(folder):
        out.print(str(p))


@cli.command()
@click.option("--media", type=click.Path(path_type=Path), help="Footage to ingest (default: generated samples).")
@click.option("--query", "queries", multiple=True, help="Searches to run after ingest.")
@click.pass_context
def demo(ctx: click.Context, media: Path | None, queries: tuple[str, ...]) -> None:
    """The whole loop on one machine: (make samples,) ingest, then search by text and by image."""
    from dam.samples import make_sample_library

    if media is None:
        media = Path("dam-samples")
        err.print(f"generating sample footage in {media}/ …")
        make_sample_library(media)
    lib = _library(ctx)
    report = lib.ingest([media], implicit_root=True, progress=TerminalProgress())
    out.print(f"[bold green]ingested[/] {report.indexed} new, {report.unchanged} unchanged, {report.failed} failed "
              f"in {report.seconds:.1f}s")
    _print_errors(report.errors)
    for q in queries or ("sunset beach", "interview"):
        out.print(f"\n[bold]dam search {q!r}[/]")
        ctx.invoke(search, text=q, image=None, limit=5, kind=None, after=None, before=None, min_duration=None,
                   max_duration=None, min_height=None, as_json=False)
    poster = next((a.poster for a in lib.get_recent(50) if a.kind == "video" and a.poster), None)
    if poster:
        out.print(f"\n[bold]dam search --image {poster}[/]")
        ctx.invoke(search, text=None, image=Path(poster), limit=5, kind=None, after=None, before=None,
                   min_duration=None, max_duration=None, min_height=None, as_json=False)
    out.print("\nnext: [bold].venv/bin/dam serve[/] and open http://127.0.0.1:8000 to browse the library")


# --- dialogue / music separation -------------------------------------------------------------


@cli.command()
@click.argument("file")
@click.option("--force", is_flag=True, help="Separate again even when stems from the same method exist.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def separate(ctx: click.Context, file: str, force: bool, as_json: bool) -> None:
    """Dialogue and music/effects stems (WAV) of FILE or an asset, kept under the data dir; a re-run reuses them."""
    from dam.audio.separate import SeparationConfigError, SeparationError
    from dam.audio.separate_store import resolve, separate_asset

    lib = _library(ctx)
    progress = TerminalProgress(not as_json)
    try:
        a = resolve(lib, file)
        total = float(a.info.duration or 0) if a.info else 0.0
        progress.start(f"separating {a.name}", max(total, 1.0), unit="s")
        done = [0.0]

        def advance(seconds: float) -> None:
            progress.advance(seconds - done[0])
            done[0] = seconds

        stems = separate_asset(lib, a, force=force, on_progress=advance)
    except FileNotFoundError as e:
        err.print(f"[red]{e}[/]")
        sys.exit(EXIT_NOT_FOUND)
    except SeparationConfigError as e:
        raise click.UsageError(str(e)) from None
    except (SeparationError, PathNotAllowed) as e:
        err.print(f"[red]error:[/] {e}")
        sys.exit(EXIT_FAILED)
    finally:
        progress.finish()
    if _emit({"asset_id": a.id, **stems.model_dump(mode="json")}, as_json):
        return
    how = "reused" if stems.reused else f"in {stems.seconds:.1f}s"
    out.print(f"[bold]{a.name}[/]  {stems.method}{f' ({stems.model})' if stems.model else ''}, "
              f"{_clock(stems.duration)} at {stems.rate} Hz, {stems.channels} ch, {how}")
    out.print(f"  dialogue  {stems.dialogue}\n  music     {stems.music}")


def main() -> None:
    # Not click's standalone mode: it turns Ctrl-C into "Aborted!" and exit 1 (a failure) before
    # this function sees it; Ctrl-C is exit 130, the shell's convention for SIGINT.
    try:
        code = cli.main(standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        err.print("interrupted: what finished is kept; run the same command again to resume")
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
