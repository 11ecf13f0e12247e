"""`dam serve`: the HTTP API and web UI on Ray Serve."""

from __future__ import annotations

from pathlib import Path

import click

from dam.cli.app import cli, err
from dam.errors import Conflict


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
        raise Conflict(str(e), code="port_in_use") from None
