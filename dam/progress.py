"""Progress: what long work reports to, and its bars on the terminal (stderr, so `--json` output
stays clean)."""

from __future__ import annotations

import time
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as Bars

err = Console(stderr=True, soft_wrap=True)


class Progress(Protocol):
    """What long work reports to: a terminal bar (TerminalProgress), a job row, or nothing (Quiet)."""

    def start(self, label: str, total: float, unit: str = "files") -> None: ...
    def advance(self, amount: float = 1, note: str = "") -> None: ...
    def finish(self) -> None: ...


class Quiet:
    def start(self, label: str, total: float, unit: str = "files") -> None: ...
    def advance(self, amount: float = 1, note: str = "") -> None: ...
    def finish(self) -> None: ...


class RateColumn(TextColumn):
    def __init__(self) -> None:
        super().__init__("")

    def render(self, task):  # type: ignore[override]
        speed = task.finished_speed or task.speed
        unit = task.fields.get("unit", "files")
        return f"{speed:,.1f} {unit}/s" if speed else ""


class TerminalProgress:
    """Live bars on a terminal; one line per stage when stderr is a log file or a pipe."""

    def __init__(self, enabled: bool = True):
        self.quiet = not enabled
        self.live = enabled and err.is_terminal
        self._p: Bars | None = None
        self._task = None
        self._plain: tuple[str, float, float, str, float] | None = None

    def start(self, label: str, total: float, unit: str = "files") -> None:
        self.finish()
        if self.quiet:
            return
        if not self.live:
            self._plain = (label, total, 0.0, unit, time.monotonic())
            return
        self._p = Bars(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                           TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("[dim]{task.fields[note]}"),
                           console=err, transient=False)
        self._p.start()
        self._task = self._p.add_task(label, total=total or None, note="", unit=unit)

    def advance(self, amount: float = 1, note: str = "") -> None:
        if self._plain is not None:
            label, total, done, unit, t0 = self._plain
            self._plain = (label, total, done + amount, unit, t0)
        if self._p is not None:
            self._p.update(self._task, advance=amount, note=note[:40])

    def finish(self) -> None:
        if self._plain is not None:
            label, total, done, unit, t0 = self._plain
            secs = time.monotonic() - t0
            rate = f", {done / secs:,.1f} {unit}/s" if secs > 0 and done else ""
            err.print(f"{label}: {done:,.0f} {unit} in {secs:.1f}s{rate}", highlight=False)
            self._plain = None
        if self._p is not None:
            t = self._p.tasks[0]
            if t.total:
                self._p.update(self._task, completed=t.total, note="")
            self._p.stop()
            self._p = None
