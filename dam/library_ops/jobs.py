"""A job row that follows a long operation (backup, a workflow step) so `dam jobs`, the web UI
and `GET /jobs/{id}/status` can watch it from another process."""

from __future__ import annotations

import os
import socket
import time

import psutil

from dam.catalog import Catalog
from dam.schema import ErrorRecord

INTERRUPTED = "its process ended before the job finished (killed, crashed or the machine went down); what it finished is kept: run it again to resume"


def this_process() -> str:
    """host:pid:start-time: a pid alone can be reused by an unrelated process later."""
    return f"{socket.gethostname()}:{os.getpid()}:{psutil.Process().create_time():.2f}"


def _gone(owner: str) -> bool:
    host, pid, started = owner.rsplit(":", 2)
    if host != socket.gethostname():
        return False  # another machine's process: only that machine can tell
    try:
        return f"{psutil.Process(int(pid)).create_time():.2f}" != started
    except (psutil.NoSuchProcess, ValueError):
        return True


def reap_interrupted(catalog: Catalog) -> list[str]:
    """Mark the running jobs whose process on this machine is gone `interrupted`, so `dam jobs`
    and the web UI stop showing a killed ingest as running forever."""
    gone = [job for job, owner in catalog.unfinished_jobs() if owner and _gone(owner)]
    for job in gone:
        catalog.update_job(job, status="interrupted", detail={"note": INTERRUPTED})
    return gone


class JobTracker:
    """Progress protocol (start/advance/finish) mirrored into one catalog job row, at most
    twice a second, plus the terminal (or nothing) through `inner`."""

    def __init__(self, catalog: Catalog, kind: str, inner=None, detail: dict | None = None):
        self.catalog, self.inner = catalog, inner
        self.job = catalog.start_job(kind, detail=detail, owner=this_process())
        self.detail = dict(detail or {})
        self.label, self.total, self.done, self.failed = "", 0.0, 0.0, 0
        self.started = time.monotonic()
        self._last = 0.0

    def start(self, label: str, total: float, unit: str = "files") -> None:
        self.label, self.total, self.done = label, total, 0.0
        if self.inner:
            self.inner.start(label, total, unit)
        self.flush(force=True)

    def advance(self, amount: float = 1, note: str = "") -> None:
        self.done += amount
        if self.inner:
            self.inner.advance(amount, note)
        self.flush()

    def finish(self) -> None:
        if self.inner:
            self.inner.finish()
        self.flush(force=True)

    def error(self, err: ErrorRecord) -> None:
        self.failed += 1
        self.catalog.record_error(self.job, err)

    def flush(self, force: bool = False) -> None:
        t = time.monotonic()
        if not force and t - self._last < 0.5:
            return
        self._last = t
        self.detail.update(stage=self.label, stage_done=round(self.done, 2), stage_total=round(self.total, 2),
                           seconds=round(t - self.started, 2))
        self.catalog.update_job(self.job, total=int(self.total), done=int(self.done), failed=self.failed,
                                detail=self.detail)

    def close(self, status: str, **detail: object) -> None:
        self.detail.update(detail)
        self.flush(force=True)
        self.catalog.update_job(self.job, status=status)
