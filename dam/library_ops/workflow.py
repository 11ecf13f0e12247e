"""Workflow files: the seed's `{"workflow": [{"action": ...}, ...]}`, run step by step.

The whole file is checked first — the schema (a discriminated union over actions, unknown keys
refused) and then what only the library can tell (paths inside the media roots, folders that
exist, a permitted backup root) — and nothing runs unless every step is fine. Each step is a
job with progress; the workflow itself is a job whose `done` counts finished steps."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dam.errors import DamError
from dam.library_ops.albums import AlbumSpec, check_name, mirror_album
from dam.library_ops.backup import backup
from dam.library_ops.exports import FORMATS, export, select
from dam.library_ops.jobs import JobTracker
from dam.library_ops.store import album_count
from dam.schema import ErrorRecord


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SyncAlbumStep(AlbumSpec):
    model_config = ConfigDict(extra="forbid")
    action: Literal["sync_album"]


class ScanStep(_Step):
    action: Literal["scan"]
    root: str = Field(min_length=1, max_length=4096)


class IngestStep(_Step):
    action: Literal["ingest"]
    paths: list[str] = Field(min_length=1, max_length=10_000)
    levels: Literal["L0", "L2", "L3"] = "L3"


class BackupStep(_Step):
    action: Literal["backup"]
    backup_root: str = Field(min_length=1, max_length=4096)
    dry_run: bool = False


class StatsStep(_Step):
    action: Literal["stats"]


class ExportStep(_Step):
    """Writes into `<data>/exports/<name>/` (a plain folder name, so HTTP callers cannot aim it elsewhere)."""

    action: Literal["export"]
    format: str
    assets: list[str] = Field(default_factory=list, description="Asset ids or paths; empty: album, else all.")
    album: str | None = None
    name: str = Field("export", description="Folder name under <data>/exports.")

    @field_validator("format")
    @classmethod
    def _fmt(cls, v: str) -> str:
        if v not in FORMATS:
            raise ValueError(f"unknown export format {v!r} (one of: {', '.join(FORMATS)})")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_name(v)


Step = Annotated[Union[SyncAlbumStep, ScanStep, IngestStep, BackupStep, StatsStep, ExportStep],
                 Field(discriminator="action")]


class Workflow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    workflow: list[Step] = Field(min_length=1, max_length=1000)


class WorkflowError(ValueError):
    """The file is not a workflow dam can run; `problems` says where and why. Nothing ran."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class StepResult(BaseModel):
    index: int
    action: str
    status: Literal["done", "partial", "failed", "not run"] = "not run"
    job: str | None = None
    result: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class WorkflowReport(BaseModel):
    job: str
    status: str = "running"
    steps: list[StepResult]
    seconds: float = 0.0


def parse(data: Any) -> Workflow:
    try:
        return Workflow.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = ".".join(str(x) for x in err["loc"])
            problems.append(f"{loc or 'workflow'}: {err['msg']}")
        raise WorkflowError(problems) from None


def check(lib, wf: Workflow, backup_root_ok) -> None:
    """What the schema cannot tell; raises WorkflowError listing every problem at once.
    backup_root_ok(path) -> Path resolves a backup root (dam.usecases.library.backup_root) or raises
    DamError/PermissionError."""
    problems: list[str] = []

    def folder(i: int, path: str, must_be_dir: bool) -> None:
        try:
            p = lib.allowed(path, implicit_root=True)
        except PermissionError as e:
            problems.append(f"workflow.{i}: {e}")
            return
        if must_be_dir and not p.is_dir():
            problems.append(f"workflow.{i}: {path} is not a folder")
        elif not p.exists():
            problems.append(f"workflow.{i}: no such file or folder: {path}")

    for i, step in enumerate(wf.workflow):
        if isinstance(step, (ScanStep, SyncAlbumStep)):
            folder(i, step.root, True)
        elif isinstance(step, IngestStep):
            for p in step.paths:
                folder(i, p, False)
        elif isinstance(step, BackupStep):
            try:
                backup_root_ok(step.backup_root)
            except (DamError, PermissionError) as e:
                problems.append(f"workflow.{i}: {e}")
        elif isinstance(step, ExportStep):
            earlier = {s.album for s in wf.workflow[:i] if isinstance(s, SyncAlbumStep)}
            try:  # an album synced by an earlier step of this workflow does not exist yet
                if not (step.album and (step.album in earlier or step.album.rpartition("/")[2] in earlier)):
                    select(lib, step.assets, step.album)
            except KeyError as e:
                problems.append(f"workflow.{i}: {e.args[0]}")
    if problems:
        raise WorkflowError(problems)


def start(lib, wf: Workflow) -> tuple[JobTracker, WorkflowReport]:
    tracker = JobTracker(lib.catalog, "workflow", detail={"steps": [s.action for s in wf.workflow]})
    report = WorkflowReport(job=tracker.job, steps=[StepResult(index=i, action=s.action)
                                                    for i, s in enumerate(wf.workflow)])
    return tracker, report


def run(lib, wf: Workflow, tracker: JobTracker, report: WorkflowReport, backup_root_ok, step_progress=None
        ) -> WorkflowReport:
    """Run the steps in order; a step that fails stops the workflow (later steps depend on it)."""
    t0 = time.monotonic()
    tracker.start("workflow", len(wf.workflow), unit="steps")
    status = "done"
    for step, res in zip(wf.workflow, report.steps):
        try:
            _run_step(lib, step, res, backup_root_ok, step_progress)
        except Exception as e:  # recorded on the step and the workflow job; the caller stays up
            res.status, res.error = "failed", f"{type(e).__name__}: {e}"
            tracker.error(ErrorRecord(path=f"workflow.{res.index}", reason=res.error, stage=res.action))
            status = "failed"
            break
        if res.status == "partial":
            status = "partial"
        tracker.advance(1, step.action)
        tracker.detail["results"] = [r.model_dump(mode="json", exclude={"result"}) for r in report.steps]
    report.status = "failed" if status == "failed" else "done"
    report.seconds = time.monotonic() - t0
    tracker.close(report.status, results=[r.model_dump(mode="json") for r in report.steps], outcome=status)
    return report


def _run_step(lib, step, res: StepResult, backup_root_ok, step_progress) -> None:
    if isinstance(step, IngestStep):
        r = lib.ingest(step.paths, implicit_root=True, levels=step.levels, progress=step_progress)
        res.job, res.result = r.job, r.model_dump(mode="json", exclude={"assets"})
        res.status = "partial" if r.errors else "done"
        return
    t = JobTracker(lib.catalog, f"workflow.{step.action}", step_progress)
    res.job = t.job
    try:
        if isinstance(step, ScanStep):
            out = lib.scan(step.root, implicit_root=True, progress=t)
        elif isinstance(step, SyncAlbumStep):
            out = mirror_album(lib, step, implicit_root=True, progress=t)
        elif isinstance(step, BackupStep):
            out = backup(lib.settings, lib.catalog, backup_root_ok(step.backup_root), step.dry_run, t, t.job)
        elif isinstance(step, ExportStep):
            chosen = select(lib, step.assets, step.album)
            t.start(f"export {step.format}", len(chosen))
            out = export(lib, step.format, chosen, lib.settings.root / "exports" / step.name)
            t.advance(len(chosen))
        else:
            out = None
            res.result = library_stats(lib)
    except BaseException:
        t.close("failed")
        raise
    errors = list(getattr(out, "errors", []) or [])
    for e in errors:
        t.error(e)
    if out is not None:
        res.result = out.model_dump(mode="json")
    res.status = "partial" if errors else "done"
    t.close("done")


def library_stats(lib) -> dict:
    counts = lib.catalog.counts()
    vectors = {level: lib.store.count(level, lib.key) for level in ("l0", "l1", "l2")}
    vectors["text"] = lib.store.count("text", lib.text_encoder_key)
    albums = album_count(lib.catalog)
    return {**counts, "albums": albums, "vectors": vectors, "encoder": lib.key}
