"""One way to fan work out over files on Ray: speech, enrichment and multi-camera sync all run
their per-file work through `fan_out`; the caller (the catalog's one writer) stores each result
as it arrives. The ingest pipeline streams through Ray Data's actor pools instead
(dam.datasets.pipeline): its stages chain, these do not."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from dam.config import Settings

T = TypeVar("T")

_END = object()


def _call(work: Callable[[Any], Any], item: Any) -> Any:
    return work(item)


class _Worker:
    """An actor holding one `make(*args)`: what it loads (models) loads once for every item."""

    def __init__(self, make: type, args: tuple):
        self.work = make(*args)

    def run(self, item: Any) -> Any:
        return self.work(item)


def fan_out(settings: Settings, items: Iterable[T], work: Callable[[T], Any] | type, *, cpus: float = 1.0,
            retries: int | None = None, workers: int | None = 1, setup: tuple = ()) -> Iterator[tuple[T, Any]]:
    """Run `work` over `items` on Ray; yield (item, result) as each one finishes.

    `work` a function: one task per item (`cpus` each, `retries` on a lost worker; None: Ray's
    default). `work` a class: a pool of `workers` actors (at most one per item; None: as many as a decode
    pool would have, `decode_actors`), each made once as
    `work(*setup)` and called with one item at a time; their CPUs shrink to fit what is free now,
    since a pool member that never starts would hold its first item forever. Exceptions raised by
    `work` reach the caller; per-file failures belong in the result."""
    items = list(items)
    if not items:
        return
    # Ray (0.3 s to import here) loads when work fans out, not when a module that can fan out is
    # imported: every `dam` command that opens the Library imports dam.audio.speech, few fan out.
    from dam.runtime.start import decode_actors, ensure_ray

    ensure_ray(settings)
    if isinstance(work, type):
        yield from _on_actors(items, work, setup, cpus, retries, workers or decode_actors(settings))
    else:
        yield from _on_tasks(items, work, cpus, retries)


def _on_tasks(items: list, work: Callable, cpus: float, retries: int | None) -> Iterator[tuple[Any, Any]]:
    import ray

    options: dict[str, Any] = {"num_cpus": cpus}
    if retries is not None:
        options["max_retries"] = retries
    task = ray.remote(_call).options(**options)
    shared = ray.put(work)
    pending = {task.remote(shared, item): item for item in items}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        yield pending.pop(done[0]), ray.get(done[0])


def _on_actors(items: list, make: type, setup: tuple, cpus: float, retries: int | None,
               workers: int) -> Iterator[tuple[Any, Any]]:
    import ray

    from dam.runtime.start import free_cpus

    size = max(1, min(len(items), workers))
    cpus = max(0.1, min(cpus, free_cpus() / size))
    retry = {} if retries is None else {"max_restarts": retries, "max_task_retries": retries}
    pool = [ray.remote(_Worker).options(num_cpus=cpus, **retry).remote(make, setup) for _ in range(size)]
    idle, pending, todo = list(pool), {}, iter(items)
    try:
        while True:
            while idle:
                item = next(todo, _END)
                if item is _END:
                    break
                actor = idle.pop()
                pending[actor.run.remote(item)] = (item, actor)
            if not pending:
                return
            done, _ = ray.wait(list(pending), num_returns=1)
            item, actor = pending.pop(done[0])
            idle.append(actor)
            yield item, ray.get(done[0])
    finally:
        for actor in pool:
            ray.kill(actor)
