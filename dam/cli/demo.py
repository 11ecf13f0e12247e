"""Try dam without footage of your own: sample footage, and the whole loop in one command."""

from __future__ import annotations

from pathlib import Path

import click

from dam.cli.app import cli, err, library, out, print_errors
from dam.cli.index import search
from dam.progress import TerminalProgress


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
    from dam.usecases.index import ingest, recent

    if media is None:
        media = Path("dam-samples")
        err.print(f"generating sample footage in {media}/ …")
        make_sample_library(media)
    lib = library(ctx)
    report = ingest(lib, [media], implicit_root=True, progress=TerminalProgress())
    out.print(f"[bold green]ingested[/] {report.indexed} new, {report.unchanged} unchanged, {report.failed} failed "
              f"in {report.seconds:.1f}s")
    print_errors(report.errors)
    for q in queries or ("sunset beach", "interview"):
        out.print(f"\n[bold]dam search {q!r}[/]")
        ctx.invoke(search, text=q, image=None, limit=5, kind=None, after=None, before=None, min_duration=None,
                   max_duration=None, min_height=None, as_json=False)
    poster = next((a.poster for a in recent(lib, 50) if a.kind == "video" and a.poster), None)
    if poster:
        out.print(f"\n[bold]dam search --image {poster}[/]")
        ctx.invoke(search, text=None, image=Path(poster), limit=5, kind=None, after=None, before=None,
                   min_duration=None, max_duration=None, min_height=None, as_json=False)
    out.print("\nnext: [bold].venv/bin/dam serve[/] and open http://127.0.0.1:8000 to browse the library")
