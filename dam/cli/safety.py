"""Keep the library safe and run batches: backup, restore, workflow."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from dam.cli.app import EXIT_FAILED, EXIT_PARTIAL, cli, emit, library, out, print_errors
from dam.errors import InvalidInput
from dam.progress import TerminalProgress


@cli.command()
@click.option("--to", "dest", required=True, type=click.Path(file_okay=False, path_type=Path), help="Backup root (local, NAS or SMB mount).")
@click.option("--dry-run", is_flag=True, help="Only say what would be copied.")
@click.option("--verify", "verify_only", is_flag=True, help="Re-hash the backup instead; damaged copies are recopied next run.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def backup(ctx: click.Context, dest: Path, dry_run: bool, verify_only: bool, as_json: bool) -> None:
    """Incremental, verified backup of originals, catalog and derived data to DEST."""
    from dam.usecases.library import backup as run
    from dam.usecases.library import verify_backup

    if verify_only:
        v = verify_backup(dest)
        if not emit(v.model_dump(mode="json"), as_json):
            out.print(f"checked {v.checked} files in {v.root}: {len(v.errors)} damaged or missing")
            print_errors(v.errors)
        sys.exit(EXIT_PARTIAL if v.errors else 0)
    report = run(library(ctx), dest, dry_run, TerminalProgress(not as_json))
    if not emit(report.model_dump(mode="json"), as_json):
        verb = "would copy" if dry_run else "copied"
        out.print(f"[bold]{report.root}[/]: {verb} {report.copied} ({report.bytes_copied / 1e6:,.1f} MB), "
                  f"{report.skipped} unchanged, {report.failed} failed in {report.seconds:.1f}s")
        for rel in report.planned[:50]:
            out.print(f"  + {rel}")
        print_errors(report.errors)
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
    from dam.usecases.library import restore as run

    report = run(ctx.obj["settings"], source, not no_originals, dry_run, force, TerminalProgress(not as_json))
    if not emit(report.model_dump(mode="json"), as_json):
        out.print(f"restored {report.restored} files into {report.data_dir}, {report.skipped} originals already in "
                  f"place, {report.failed} failed in {report.seconds:.1f}s")
        print_errors(report.errors)
    sys.exit(EXIT_PARTIAL if report.errors else 0)


@cli.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--check", "check_only", is_flag=True, help="Validate only; run nothing.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def workflow(ctx: click.Context, file, check_only: bool, as_json: bool) -> None:
    """Run a workflow file: {"workflow": [{"action": "sync_album" | "scan" | "ingest" | "backup" | "stats" | "export", ...}]}.
    The whole file is validated before any step runs."""
    from dam.usecases.library import check_workflow, run_workflow

    try:
        data = json.load(file)
    except json.JSONDecodeError as e:
        raise InvalidInput([f"not JSON: {e}"], code="invalid_workflow", title="invalid workflow, nothing ran") from None
    lib = library(ctx)
    wf = check_workflow(lib, data, confined=False)
    if check_only:
        emit({"ok": True, "steps": [s.action for s in wf.workflow]}, as_json) or out.print(f"valid: {len(wf.workflow)} steps")
        return
    report = run_workflow(lib, wf, confined=False, progress=TerminalProgress(not as_json))
    if not emit(report.model_dump(mode="json"), as_json):
        for s in report.steps:
            colour = {"done": "green", "partial": "yellow", "failed": "red"}.get(s.status, "dim")
            out.print(f"  [{colour}]{s.status:<8}[/] {s.index}. {s.action} (job {s.job}){' — ' + s.error if s.error else ''}")
    sys.exit(EXIT_FAILED if report.status == "failed" else EXIT_PARTIAL if any(s.status == "partial" for s in report.steps) else 0)
