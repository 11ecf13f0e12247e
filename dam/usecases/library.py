"""Work over many assets: albums, exports, enrichment, publishing, backup and restore, workflows."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from dam.enrich.run import enrich_assets
from dam.enrich.store import EnrichmentView, view
from dam.errors import Conflict, InvalidInput, NotConfigured, NotFound, UpstreamFailed
from dam.library_ops import workflow as wfl
from dam.library_ops.albums import AlbumReport, AlbumSpec, mirror_album
from dam.library_ops.backup import BackupError, BackupReport, VerifyReport, verify
from dam.library_ops.backup import backup as run_backup
from dam.library_ops.exports import FORMATS, ExportReport, select
from dam.library_ops.exports import export as run_export
from dam.library_ops.jobs import JobTracker
from dam.library_ops.restore import RestoreReport
from dam.library_ops.restore import restore as run_restore
from dam.library_ops.store import albums as album_rows
from dam.paths import inside_roots
from dam.publish.remote import PublishError
from dam.publish.run import PublishReport
from dam.publish.run import publish as run_publish
from dam.publish.target import PublishConfigError
from dam.schema import Asset, ErrorRecord


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


def chosen(lib, refs: list[str], album: str | None = None) -> list[Asset]:
    """The assets named (ids, id prefixes, paths), or an album's, or every asset; a miss: NotFound."""
    try:
        return select(lib, refs, album)
    except KeyError as e:
        raise NotFound(e.args[0]) from None


def export(lib, fmt: str, refs: list[str], album: str | None, out_dir: str | Path) -> ExportReport:
    """The assets chosen written as `fmt` (one of FORMATS) into `out_dir`."""
    if fmt not in FORMATS:
        raise InvalidInput(f"{fmt!r}: use one of {', '.join(FORMATS)}", code="unknown_format")
    return run_export(lib, fmt, chosen(lib, refs, album), Path(out_dir))


def albums(lib) -> list[dict]:
    """Every album: id, category, name, root, mode, dates and its member count."""
    return album_rows(lib.catalog)


def sync_album(lib, spec: AlbumSpec, implicit_root: bool = False, progress=None, scan_progress=None) -> AlbumReport:
    """The album mirrors the media under spec.root, as catalog entries and a folder of links or copies."""
    return mirror_album(lib, spec, implicit_root=implicit_root, progress=progress, scan_progress=scan_progress)


def publish(lib, target: str, refs: list[str], album: str | None = None, dry_run: bool = False) -> PublishReport:
    picked = chosen(lib, refs, album)
    try:
        return run_publish(lib, target, picked, dry_run)
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


def backup(lib, root: Path, dry_run: bool = False, progress=None) -> BackupReport:
    """Incremental, verified backup to `root` (see backup_root for where one may go), tracked as a
    `backup` job unless a dry run; a refusal (an unusable root): Conflict."""
    tracker = None if dry_run else JobTracker(lib.catalog, "backup", progress, {"to": str(root)})
    try:
        report = run_backup(lib.settings, lib.catalog, root, dry_run, tracker, tracker and tracker.job)
    except BaseException as e:
        if tracker:
            tracker.close("failed")
        if isinstance(e, BackupError):
            raise Conflict(str(e), code="backup_refused") from None
        raise
    if tracker:
        tracker.close("done", copied=report.copied, skipped=report.skipped, bytes=report.bytes_copied)
    return report


def start_backup(lib, root: Path, submit) -> str:
    """A backup to `root` as a background job handed to `submit` (an executor's submit); its id.
    What the backup raises goes on the job's row."""
    tracker = JobTracker(lib.catalog, "backup", detail={"to": str(root)})
    lib.catalog.update_job(tracker.job, status="queued")

    def work() -> None:
        lib.catalog.update_job(tracker.job, status="running")
        try:
            r = run_backup(lib.settings, lib.catalog, root, progress=tracker, job=tracker.job)
        except Exception as e:  # the job row says what happened; the caller stays up
            tracker.error(ErrorRecord(path=str(root), reason=f"{type(e).__name__}: {e}", stage="backup"))
            tracker.close("failed")
            return
        for e in r.errors:
            tracker.error(e)
        tracker.close("done", copied=r.copied, skipped=r.skipped, bytes=r.bytes_copied)

    submit(work)
    return tracker.job


def verify_backup(root: Path) -> VerifyReport:
    """Re-hash a backup; what is damaged or missing is recopied by the next backup."""
    try:
        return verify(root)
    except BackupError as e:
        raise Conflict(str(e), code="backup_refused") from None


def restore(settings, source: Path, originals: bool = True, dry_run: bool = False, force: bool = False,
            progress=None) -> RestoreReport:
    """A library back from a backup into the settings' data dir (no Library: there may be none yet)."""
    try:
        return run_restore(settings, source, originals, dry_run, force, progress)
    except BackupError as e:
        raise Conflict(str(e), code="restore_refused") from None


def start_workflow(lib, data, submit, confined: bool = True) -> wfl.WorkflowReport:
    """Validate the whole workflow (InvalidInput lists every problem), then hand its steps to
    `submit` (an executor's submit) as a job; the report as it starts."""
    wf = check_workflow(lib, data, confined)
    tracker, report = wfl.start(lib, wf)
    lib.catalog.update_job(tracker.job, status="queued")
    submit(wfl.run, lib, wf, tracker, report, lambda path: backup_root(lib.settings, path, confined))
    return report


def run_workflow(lib, wf: wfl.Workflow, confined: bool = False, progress=None) -> wfl.WorkflowReport:
    """A workflow checked by check_workflow, run now as a job, step after step."""
    tracker, report = wfl.start(lib, wf)
    return wfl.run(lib, wf, tracker, report, lambda path: backup_root(lib.settings, path, confined), progress)
