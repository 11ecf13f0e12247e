"""One ingest job in flight (IngestRun), the progress that mirrors it into the job row
(JobProgress; other processes, `dam jobs` and GET /jobs/{id}, watch a job through that row), and
the optional stages a run ends with (AFTER_LEVELS)."""

from __future__ import annotations

import time

from dam.catalog import Catalog
from dam.progress import Progress, Quiet
from dam.registry import Registry
from dam.schema import Asset, ErrorRecord, IngestReport

# The optional stages an ingest runs after L1-L3, in this order: each is `(library, run, ids of the
# assets indexed)`, decides from the settings whether it runs, and adds its per-file failures to
# run.report.errors. A new one: a function in its feature's module and one line here. Named by
# import path, so an ingest that does not analyse motion never imports SciPy.
AFTER_LEVELS: Registry = Registry("ingest stage", {
    "proxies": "dam.library_ops.photos:proxy_stage",
    "speech": "dam.audio.speech:ingest_stage",
    "motion": "dam.motion.stage:ingest_stage",
    "enrich": "dam.enrich.run:ingest_stage",
})


class IngestRun:
    """One ingest job in flight: its report, what still needs L1+, and the catalog job row,
    which is kept up to date (stage, counts, errors) so other processes can watch it."""

    def __init__(self, job: str, report: IngestReport, levels: str, catalog: Catalog):
        self.job, self.report, self.levels, self.catalog = job, report, levels, catalog
        self.todo: list[Asset] = []
        self.progress: Progress = Quiet()
        self.started = time.monotonic()
        self.closed = False
        self.waiting: str | None = None  # set while a store write waits for its server
        self._stage: tuple | None = None  # the last stage reported, kept in notes between advances
        self._flushed = 0
        self._last = 0.0

    def wait_note(self, msg: str | None) -> None:
        """The vector store is waiting for its server (msg) or is back (None): show it in the job now."""
        self.waiting = msg
        self.flush(force=True)

    def flush(self, stage: str | None = None, done: float | None = None, total: float | None = None,
              force: bool = False) -> None:
        now_ = time.monotonic()
        if not force and now_ - self._last < 0.5:
            return
        self._last = now_
        errors = self.report.errors
        for err in errors[self._flushed:]:
            self.catalog.record_error(self.job, err)
        self._flushed = len(errors)
        detail = {"levels": self.levels, "video_seconds": round(self.report.video_seconds, 2),
                  "seconds": round(now_ - self.started, 2)}
        if stage is not None:
            detail.update(stage=stage, stage_done=round(done or 0, 2), stage_total=round(total or 0, 2))
            self._stage = detail["stage"], detail["stage_done"], detail["stage_total"]
        elif self._stage:
            detail.update(zip(("stage", "stage_done", "stage_total"), self._stage))
        if self.waiting:
            detail["waiting"] = self.waiting
        self.catalog.update_job(self.job, done=self.report.indexed + self.report.unchanged,
                                failed=failed_count(errors), detail=detail)

    def refresh_levels(self) -> None:
        for entry in self.report.assets:
            a = self.catalog.asset(entry["uuid"])
            entry["levels"] = a.levels if a else {}

    def close(self, status: str) -> None:
        r = self.report
        self.refresh_levels()
        r.failed = failed_count(r.errors)
        r.seconds = time.monotonic() - self.started
        self.flush(stage="finished", force=True)
        self.catalog.update_job(self.job, status=status)
        self.closed = True


class JobProgress:
    """Forwards progress to a terminal (or nothing) and mirrors it into the job row."""

    def __init__(self, run: IngestRun, inner: Progress):
        self.run, self.inner = run, inner
        self.label, self.total, self.done = "", 0.0, 0.0

    def start(self, label: str, total: float, unit: str = "files") -> None:
        self.label, self.total, self.done = label, total, 0.0
        self.inner.start(label, total, unit)
        self.run.flush(label, 0, total, force=True)

    def advance(self, amount: float = 1, note: str = "") -> None:
        self.done += amount
        self.inner.advance(amount, note)
        self.run.flush(self.label, self.done, self.total)

    def finish(self) -> None:
        self.inner.finish()
        self.run.flush(self.label, self.total, self.total, force=True)


def failed_count(errors: list[ErrorRecord]) -> int:
    """Files that could not be processed; a damaged file indexed for what decodes is not one."""
    return len({e.path for e in errors if e.stage != "damaged"})


def end_status(e: BaseException) -> str:
    """Ctrl-C, SIGTERM (`ray job stop`, a service stopping) and exit end a job `interrupted`: it
    did not fail, and running it again resumes it."""
    return "interrupted" if isinstance(e, (KeyboardInterrupt, SystemExit)) else "failed"
