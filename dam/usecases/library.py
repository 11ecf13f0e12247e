"""Work over many assets: enrich them, publish them, back the library up, validate a workflow."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from dam.enrich.run import enrich_assets
from dam.enrich.store import EnrichmentView, view
from dam.errors import Conflict, InvalidInput, NotConfigured, NotFound, UpstreamFailed
from dam.library_ops import workflow as wfl
from dam.library_ops.exports import select
from dam.paths import inside_roots
from dam.publish.remote import PublishError
from dam.publish.run import PublishReport
from dam.publish.run import publish as run_publish
from dam.publish.target import PublishConfigError
from dam.schema import Asset


class Enriched(BaseModel):
    assets: list[Asset]
    views: list[EnrichmentView]
    errors: list[dict]


def enrich(lib, refs: list[str], progress=None, by_path: bool = False) -> Enriched:
    """Tag and describe the assets named (default: every asset); a name that matches none: NotFound."""
    found = [lib.asset(r) if by_path else lib.catalog.asset(r) for r in refs]
    if None in found:
        raise NotFound(f"no asset matches {refs[found.index(None)]!r}")
    todo = found or lib.catalog.assets(limit=1_000_000)
    failed = enrich_assets(lib, todo, progress)
    return Enriched(assets=todo, views=[v for a in todo if (v := view(lib.catalog, a.id))],
                    errors=[{"path": p, "reason": r} for p, r in failed])


def publish(lib, target: str, refs: list[str], album: str | None = None, dry_run: bool = False) -> PublishReport:
    try:
        chosen = select(lib, refs, album)
    except KeyError as e:
        raise NotFound(e.args[0]) from None
    try:
        return run_publish(lib, target, chosen, dry_run)
    except PublishConfigError as e:
        raise InvalidInput(str(e), code="publish_config") from None
    except PublishError as e:
        raise UpstreamFailed(str(e), code="publish_failed", title="publish failed, nothing sent") from None


def backup_root(settings, path: str | Path, confined: bool) -> Path:
    """Where a backup may go: never inside the data dir, and when `confined` (HTTP callers) only
    inside DAM_BACKUP_ROOTS, a relative path being relative to the first of them."""
    if confined:
        roots = [r.expanduser().resolve() for r in settings.backup_roots]
        if not roots:
            raise NotConfigured("configure DAM_BACKUP_ROOTS: backups are written only inside them",
                                code="no_backup_root")
        path = str(path)
        if not path.startswith(("/", "~")):
            path = str(roots[0] / path)
        real = inside_roots(path, roots, what="backup roots")  # PathNotAllowed outside them
    else:
        real = Path(path).expanduser().resolve()
    if real == settings.root or settings.root in real.parents:
        raise Conflict(f"the backup root {real} must not be inside the data dir", code="backup_refused")
    return real


def check_workflow(lib, data, confined: bool) -> wfl.Workflow:
    """The whole workflow validated before any step runs; InvalidInput lists every problem."""
    try:
        wf = wfl.parse(data)
        wfl.check(lib, wf, lambda path: backup_root(lib.settings, path, confined))
    except wfl.WorkflowError as e:
        raise InvalidInput(e.problems, code="invalid_workflow", title="invalid workflow, nothing ran") from None
    return wf
