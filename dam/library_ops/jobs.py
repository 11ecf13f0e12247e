"""A job row that follows a long operation (backup, a workflow step) so `dam jobs`, the web UI
and `GET /jobs/{id}/status` can watch it from another process."""

from __future__ import annotations

import time

from dam.catalog import Catalog
from dam.schema import ErrorRecord


class JobTracker:
    """Progress protocol (start/advance/finish) mirrored into one catalog job row, at most
    twice a second, plus the terminal (or nothing) through `inner`."""

    def __init__(self, catalog: Catalog, kind: str, inner=None, detail: dict | None = None):
        self.catalog, self.inner = catalog, inner
        self.job = catalog.start_job(kind, detail=detail)
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
