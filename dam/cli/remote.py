"""Network shares as sources: `dam remote add|list|remove`, `dam sync-remote NAME`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dam.cli.app import EXIT_PARTIAL, DamCommand, cli, emit, err, library, out
from dam.progress import TerminalProgress


def catalog(ctx: click.Context):
    """The catalog alone (remote commands need no vector store): the Library's when it is open."""
    if "library" in ctx.obj:
        return ctx.obj["library"].catalog
    if "catalog" not in ctx.obj:
        from dam.runtime.catalog import open_catalog

        ctx.obj["catalog"] = open_catalog(ctx.obj["settings"])
    return ctx.obj["catalog"]


@cli.group()
def remote() -> None:
    """Network shares (SMB: a NAS, a Samba or Windows server) that `dam sync-remote` pulls from.
    Credentials: DAM_REMOTE_<NAME>_USER and DAM_REMOTE_<NAME>_PASSWORD (or the keyring)."""


remote.command_class = DamCommand  # typed errors become exit codes here too


@remote.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--into", type=click.Path(file_okay=False, path_type=Path),
              help="Local media root to pull into (default: the first media root / NAME).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def remote_add(ctx: click.Context, name: str, url: str, into: Path | None, as_json: bool) -> None:
    """Add a remote: NAME and smb://[user@]host[:port]/share[/folder]. No password here."""
    from dam.remote.smb import env_prefix
    from dam.usecases.remote import add_remote

    row = add_remote(ctx.obj["settings"], catalog(ctx), name, url, str(into) if into else None, implicit_root=True)
    if not emit(row.model_dump(mode="json"), as_json):
        out.print(f"added remote [bold]{row.name}[/] {row.url}" + (f" → {row.into}" if row.into else ""))
        err.print(f"credentials: {env_prefix(name)}_USER and {env_prefix(name)}_PASSWORD in the environment")


@remote.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def remote_list(ctx: click.Context, as_json: bool) -> None:
    """The remotes, their URLs, local roots and last sync."""
    from dam.usecases.remote import list_remotes

    rows = list_remotes(catalog(ctx))
    if emit([r.model_dump(mode="json") for r in rows], as_json):
        return
    if not rows:
        out.print("no remotes (dam remote add NAME smb://host/share/folder)")
    for r in rows:
        out.print(f"{r.name}\t{r.url}\t{r.into or '-'}\tlast sync {r.synced_at or 'never'}")


@remote.command("remove")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def remote_remove(ctx: click.Context, name: str, as_json: bool) -> None:
    """Forget a remote (the files it pulled stay where they are)."""
    from dam.usecases.remote import remove_remote

    row = remove_remote(catalog(ctx), name)
    if not emit(row.model_dump(mode="json"), as_json):
        out.print(f"removed remote {row.name} ({row.url}); pulled files are kept")


@cli.command("sync-remote")
@click.argument("name")
@click.option("--into", type=click.Path(file_okay=False, path_type=Path), help="Local media root (overrides the remote's).")
@click.option("--delete", is_flag=True, help="Delete local copies of files gone from the share (only if unchanged here).")
@click.option("--ingest", is_flag=True, help="Index what was pulled (as `dam ingest`), not only register it.")
@click.option("--bwlimit", type=click.FloatRange(min=0.01), help="At most this many MB/s from the share.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def sync_remote_cmd(ctx: click.Context, name: str, into: Path | None, delete: bool, ingest: bool,
                    bwlimit: float | None, as_json: bool) -> None:
    """Pull new and changed media from remote NAME into its local root, resumably and verified;
    then register it in the catalog (--ingest: index it too)."""
    from dam.usecases.remote import sync_remote

    r = sync_remote(ctx.obj["settings"], catalog(ctx), lambda: library(ctx), name, str(into) if into else None,
                    delete, ingest, bwlimit, TerminalProgress(not as_json), implicit_root=True)
    if not emit(r.model_dump(mode="json"), as_json):
        out.print(f"[bold]{r.url}[/] → {r.into}: {r.pulled} pulled, {r.resumed} resumed, {r.renamed} renamed, "
                  f"{r.unchanged} unchanged, {r.deleted} deleted, {r.kept} kept, {r.conflict} conflicts, {r.failed} failed "
                  f"({r.bytes_pulled / 1e6:,.1f} MB in {r.seconds:.1f}s)")
        for i in r.items[:50]:
            mark = {"failed": "[red]✗[/]", "conflict": "[yellow]![/]", "kept": "[yellow]·[/]", "deleted": "−"}.get(i.status, "+")
            out.print(f"  {mark} {i.path} [dim]{i.status}{': ' + i.detail if i.detail else ''}[/]")
        if len(r.items) > 50:
            out.print(f"  … and {len(r.items) - 50} more (--json lists all)")
        if not ingest and r.registered:
            err.print(f"{r.registered} file(s) registered; `dam ingest {r.into}` indexes them")
    sys.exit(EXIT_PARTIAL if r.failed or r.conflict else 0)
