"""The ingest pipeline on Ray Data: shard rows stream through decode, shot and embed actor
pools and come back, one finished shard at a time, to the single writer."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator

import ray
from ray.data import ActorPoolStrategy

from dam.config import Settings
from dam.datasets.stages import DecodeShard, DetectShots, EmbedFrames
from dam.media.nvdec import nvdec_suits
from dam.runtime.start import ensure_ray, free_cpus, gpu_decode, gpus_per_actor, with_decode_actors

# Faults: a stage actor whose process or node dies is restarted (on any node that fits) and its
# shard is sent again: Ray Data gives its pool actors max_restarts=-1 and max_task_retries=-1
# (passing them ourselves is deprecated since Ray 2.60). Safe: every stage is a pure function of
# its shard row, and the writer takes each shard's result once (AssetFrames.add), so a repeat can
# never duplicate anything. tests/test_backfill_cluster.py kills a node and a process to prove it.


def _decoded(settings: Settings, shards: list[dict], scale: float, decode_gpus: float,
             room: bool = False) -> ray.data.Dataset:
    """Shards NVDEC suits go to GPU decode actors, the rest to CPU decode actors: two pools, because
    one process cannot hold both decoders' FFmpeg builds. With `room` (the whole pool fits, see
    run_shards) a pool has its full size from the start, spread over the nodes; otherwise it grows
    from one actor (a fixed pool that cannot fit would wait forever, and an autoscaling pool
    started above its minimum may cancel a pending actor, which Ray Data 2.60 takes as fatal).

    One shard in flight per decode actor. With Ray Data's default (2 per actor) the actor ready
    first took both 60 s shards of a 120 s file and decoded them one after the other, and Ray Data
    then released its idle peer: 0.48x ffmpeg on a 2-core EPYC (issue 21); here (2 cores) one pid
    decoded shard 0 at 5-71 s and shard 1 at 72-208 s. With 1 in flight: two pids, 11-303 s and
    14-305 s. A shard row is a few hundred bytes and its actor reads the file itself, so a second
    task in flight prefetches nothing."""
    routes = [("cpu", [s for s in shards if not (decode_gpus and nvdec_suits(s))], 1.0, 0)]
    if decode_gpus:
        routes.append(("cuda", [s for s in shards if nvdec_suits(s)], 0.5, decode_gpus))
    parts = []
    for device, rows, cpus, gpus in routes:
        if rows:
            conf = settings.model_dump(mode="json") | {"decode_device": device}
            size = min(settings.decode_concurrency, len(rows))
            parts.append(ray.data.from_items(rows, override_num_blocks=len(rows)).map(
                _bind(DecodeShard, conf, "decode"), num_cpus=scale * cpus, num_gpus=gpus,
                compute=ActorPoolStrategy(size=size, max_tasks_in_flight_per_actor=1) if room
                else ActorPoolStrategy(min_size=1, max_size=settings.decode_concurrency, max_tasks_in_flight_per_actor=1)))
    return parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]


def start_together(ds: ray.data.Dataset, settings: Settings) -> ray.data.Dataset:
    """On a local Ray, hand out no shard before every pool's first actors are up: otherwise the
    decoder that starts first takes the first shards while its peers are still importing. A
    cluster (whose nodes may take minutes to come up) starts at once, with whatever is ready."""
    if not settings.ray_address:
        ds.context.wait_for_min_actors_s = 600  # everything fits in what is free: seconds, not minutes
    return ds


def run_shards(settings: Settings, shards: list[dict]) -> Iterator[dict]:
    """Yield each shard's result row (vectors, times, cuts or error) as soon as it is done."""
    if not shards:
        return
    ensure_ray(settings)
    settings = with_decode_actors(settings)
    conf = settings.model_dump(mode="json")
    gpus = gpus_per_actor(settings)
    decoders_on_gpu = gpu_decode(settings)
    # Fractional GPUs are scheduling tokens: the two model actors and every NVDEC decode actor
    # must fit on one card together.
    gpu_share = min(gpus, 0.25 if decoders_on_gpu else 0.5) if gpus else 0
    decode_gpus = min(0.05, 0.5 / settings.decode_concurrency) if decoders_on_gpu else 0
    model_cpus = 0.25 if gpus else 0.5
    # The actors must fit in what is free now (a laptop running `dam serve` has given some CPUs to
    # Serve); otherwise Ray Data would wait for them forever. On a local Ray (one node) CPU shares
    # shrink until the whole decode pool fits next to the model actors: they are scheduling tokens,
    # and with 1 CPU per decoder and 0.5 per model actor 2 free CPUs held ONE decoder, which
    # decoded every shard alone (issue 21). Rounded down so they never add up to a hair more than
    # is free. A cluster keeps whole-CPU decoders (its free CPUs are spread over nodes, where
    # shrunken shares could leave pieces too small for any actor): a full pool where they fit,
    # else one that grows from one actor.
    models = 2 * model_cpus * settings.embed_concurrency
    free = free_cpus()
    local = not settings.ray_address and not decode_gpus
    scale = math.floor(1000 * min(1.0, max(free, 0.1) / ((settings.decode_concurrency if local else 1) + models))) / 1000
    room = local or (not decode_gpus and free >= settings.decode_concurrency + models)
    ds = _decoded(settings, shards, scale, decode_gpus, room)
    ds = ds.map(_bind(DetectShots, conf, "shots"), num_cpus=model_cpus * scale, num_gpus=gpu_share,
                compute=ActorPoolStrategy(size=settings.embed_concurrency))
    ds = ds.map(_bind(EmbedFrames, conf, "embed"), num_cpus=model_cpus * scale, num_gpus=gpu_share,
                compute=ActorPoolStrategy(size=settings.embed_concurrency))
    yield from start_together(ds, settings).iter_rows()


STAGES = ("decode", "shots", "embed")


class StageClock:
    """Busy fraction of every stage actor over one run (time inside its stage / the run's wall
    time), from the `<stage>_pid/_started/_ended` each row carries: a speed figure that halves
    on another machine says why (one decoder at 1.0 and its peer at 0.0 is a serialised pool)."""

    def __init__(self) -> None:
        self.started = time.time()
        self.busy: dict[str, dict[str, float]] = {s: {} for s in STAGES}

    def add(self, row: dict) -> None:
        for stage in STAGES:
            if row.get(f"{stage}_pid"):
                per = self.busy[stage]
                pid = str(row[f"{stage}_pid"])
                per[pid] = per.get(pid, 0.0) + float(row[f"{stage}_ended"]) - float(row[f"{stage}_started"])

    def fractions(self) -> dict[str, dict[str, float]]:
        """stage -> process id -> busy fraction, since this clock was made."""
        wall = max(time.time() - self.started, 1e-9)
        return {s: {pid: round(t / wall, 3) for pid, t in sorted(per.items())} for s, per in self.busy.items() if per}


def _bind(stage: type, conf: dict, name: str) -> type:
    """A subclass carrying the settings, so actors need no constructor arguments in the object
    store (which Ray cannot restore if an actor restarts after they are gone). Its rows also say
    which process ran the stage and when (`<name>_pid`, `<name>_started`, `<name>_ended`,
    time.time()): StageClock's busy fractions and the pool-concurrency test read them."""

    def call(self, row: dict) -> dict:
        started = time.time()
        row = stage.__call__(self, row)
        row.update({f"{name}_pid": os.getpid(), f"{name}_started": started, f"{name}_ended": time.time()})
        return row

    return type(stage.__name__, (stage,), {"__init__": lambda self: stage.__init__(self, conf), "__call__": call})
