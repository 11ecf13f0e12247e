"""Curate and hand over: albums, ratings, tags, enrichment, exports and stock publishing."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dam.cli.app import EXIT_PARTIAL, cli, emit, err, library, out, print_errors
from dam.progress import TerminalProgress


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
    from dam.library_ops.exports import FORMATS
    from dam.usecases.library import export

    if fmt not in FORMATS:
        raise click.BadParameter(f"{fmt!r}: use one of {', '.join(FORMATS)}", param_hint="FORMAT")
    report = export(library(ctx), fmt, list(assets), album, out_dir)
    if not emit(report.model_dump(mode="json"), as_json):
        out.print(f"{fmt}: {report.assets} assets → {len(report.files)} files in {report.folder}")
        for w in report.warnings:
            err.print(f"  [yellow]![/] {w}")
        print_errors(report.errors)
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

    from dam.library_ops.albums import AlbumSpec
    from dam.usecases.library import sync_album

    try:
        spec = AlbumSpec(root=str(root), album=album, category=category, mode=mode)
    except ValidationError as e:
        raise click.BadParameter(e.errors()[0]["msg"]) from None
    report = sync_album(library(ctx), spec, implicit_root=True, progress=TerminalProgress(not as_json),
                          scan_progress=TerminalProgress(not as_json))
    if not emit(report.model_dump(mode="json"), as_json):
        out.print(f"album [bold]{report.album}[/] ({report.members} items, +{report.added} −{report.removed}) at {report.folder}")
        print_errors(report.errors)
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
    from dam.usecases.assets import rate as run

    chosen = [name for name, on in (("--pick", pick), ("--reject", reject), ("--unflag", unflag)) if on]
    if len(chosen) > 1:  # one flag per asset: which one was meant is not for us to guess
        raise click.UsageError(f"{' and '.join(chosen)} exclude each other: give one")
    flag = "pick" if pick else "reject" if reject else "" if unflag else None
    a, r = run(library(ctx), asset, stars, flag, by_path=True)
    if not emit(r.model_dump(mode="json"), as_json):
        out.print(f"{a.name}: {'★' * (r.rating or 0)}{'☆' * (5 - (r.rating or 0))} {r.flag or ''}")


@cli.command("albums")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def albums_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the albums: category, name, members, mode and folder."""
    from dam.library_ops.albums import album_folder
    from dam.usecases.library import albums

    lib = library(ctx)
    found = albums(lib)
    if emit(found, as_json):
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
    from dam.usecases.library import enrich as run

    done = run(library(ctx), list(assets), TerminalProgress(not as_json), by_path=True)
    views = [v.model_dump(mode="json") for v in done.views]
    if not emit({"enriched": views, "errors": done.errors}, as_json):
        for v in views:
            out.print(f"[bold]{v['asset_id'][:12]}[/] {v['description']}")
        for e in done.errors:
            err.print(f"[red]failed[/] {e['path']}: {e['reason']}")
    sys.exit(EXIT_PARTIAL if done.errors else 0)


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
    from dam.library_ops.describe import clock
    from dam.usecases.assets import tags

    a, v = tags(library(ctx), asset, add, remove, description, by_path=True)
    if not emit(v.model_dump(mode="json") if v else {"asset_id": a.id, "labels": []}, as_json):
        out.print(f"[bold]{a.name}[/]: {v.description if v else '(not enriched: dam enrich)'}")
        for lb in v.labels if v else []:
            seen = ", ".join(f"{clock(start)}–{clock(end)}" for start, end in lb.seen)
            out.print(f"  {lb.facet:>14}  {lb.name}  [dim]{lb.source} {lb.confidence:.2f}[/]" + (f" · {seen}" if seen else ""))


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
    from dam.usecases.library import publish as run

    report = run(library(ctx), target_name, list(assets), album, dry_run)
    if not emit(report.model_dump(mode="json"), as_json):
        out.print(f"{'plan for' if report.dry_run else 'published to'} {report.destination}: "
                  f"{len(report.published)} assets, {len(report.uploads)} files")
        for u in report.uploads:
            out.print(f"  {u.status:>8}  {u.remote}  ({u.size} bytes) {u.detail}")
        for p in report.held:
            err.print(f"  [yellow]held[/] {p.name}: {p.message}")
    sys.exit(EXIT_PARTIAL if report.failed else 0)
