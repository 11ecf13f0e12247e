"""The ingest pipeline on Ray Data: shard rows stream through decode, shot and embed actor
pools and come back, one finished shard at a time, to the single writer."""

from __future__ import annotations

from collections.abc import Iterator

import ray
from ray.data import ActorPoolStrategy

from dam.config import Settings
from dam.datasets.stages import DecodeShard, DetectShots, EmbedFrames

# Faults: a stage actor whose process or node dies is restarted (on any node that fits) and its
# shard is sent again: Ray Data gives its pool actors max_restarts=-1 and max_task_retries=-1
# (passing them ourselves is deprecated since Ray 2.60). Safe: every stage is a pure function of
# its shard row, and the writer takes each shard's result once (AssetFrames.add), so a repeat can
# never duplicate anything. tests/test_backfill_cluster.py kills a node and a process to prove it.


# Ray Serve's request path with less machinery per hop: replicas call each other over gRPC,
# user code runs on the replica's event loop (no thread hand-off), access logs go to files only.
# Parts of RAY_SERVE_THROUGHPUT_OPTIMIZED: handles stay usable from plain threads (the camera
# manager's), which the router sharing the caller's loop would not allow, and direct ingress is
# set up by `dam serve` itself (dam.serve.app.run). The Api's handles ask for gRPC explicitly
# (dam.serve.api). Measured on 2 cores, 100k vectors: README, Search. A cluster sets the same
# variables on `ray start` (cluster.yaml).
SERVE_FAST_PATH = {"RAY_SERVE_USE_GRPC_BY_DEFAULT": "1", "RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD": "0",
                   "RAY_SERVE_LOG_TO_STDERR": "0", "RAY_SERVE_REQUEST_PATH_LOG_BUFFER_SIZE": "1000"}


def ensure_ray(settings: Settings) -> None:
    if ray.is_initialized():
        return
    import logging
    import os

    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    for name, value in SERVE_FAST_PATH.items():  # read by the Serve processes this Ray starts
        os.environ.setdefault(name, value)
    if settings.ray_address:
        ray.init(address=settings.ray_address, logging_level=logging.ERROR, log_to_driver=False)
    else:
        # Local Ray for one machine: no dashboard, nothing listening beyond loopback.
        ray.init(include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.verbose_stats_logs = False


def gpus_per_actor(settings: Settings) -> float:
    if settings.num_gpus is not None:
        return settings.num_gpus
    return 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0


def gpu_decode(settings: Settings) -> bool:
    has_gpu = ray.cluster_resources().get("GPU", 0) > 0
    if settings.decode_device == "cuda" and not has_gpu:
        raise RuntimeError("decode_device=cuda but the Ray cluster has no GPU: set DAM_DECODE_DEVICE=cpu or auto")
    return settings.decode_device == "cuda" or (settings.decode_device == "auto" and has_gpu)


def _decoded(settings: Settings, shards: list[dict], scale: float, decode_gpus: float,
             room: bool = False) -> ray.data.Dataset:
    """Shards NVDEC suits go to GPU decode actors, the rest to decord actors: two pools, because
    one process cannot hold both decoders' FFmpeg builds. With `room` (the cluster has CPUs free
    for every actor) a pool has its full size from the start, spread over the nodes; otherwise it
    grows from one actor (a fixed pool that cannot fit would wait forever, and an autoscaling
    pool started above its minimum may cancel a pending actor, which Ray Data 2.60 takes as fatal)."""
    from dam.media.nvdec import nvdec_suits

    routes = [("cpu", [s for s in shards if not (decode_gpus and nvdec_suits(s))], 1.0, 0)]
    if decode_gpus:
        routes.append(("cuda", [s for s in shards if nvdec_suits(s)], 0.5, decode_gpus))
    parts = []
    for device, rows, cpus, gpus in routes:
        if rows:
            conf = settings.model_copy(update={"decode_device": device}).model_dump(mode="json")
            parts.append(ray.data.from_items(rows, override_num_blocks=len(rows)).map(
                _bind(DecodeShard, conf), num_cpus=scale * cpus, num_gpus=gpus,
                compute=ActorPoolStrategy(size=min(settings.decode_concurrency, len(rows))) if room
                else ActorPoolStrategy(min_size=1, max_size=settings.decode_concurrency)))
    return parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]


def run_shards(settings: Settings, shards: list[dict]) -> Iterator[dict]:
    """Yield each shard's result row (vectors, times, cuts or error) as soon as it is done."""
    if not shards:
        return
    ensure_ray(settings)
    conf = settings.model_dump(mode="json")
    gpus = gpus_per_actor(settings)
    decoders_on_gpu = gpu_decode(settings)
    # Fractional GPUs are scheduling tokens: the two model actors and every NVDEC decode actor
    # must fit on one card together.
    gpu_share = min(gpus, 0.25 if decoders_on_gpu else 0.5) if gpus else 0
    decode_gpus = min(0.05, 0.5 / settings.decode_concurrency) if decoders_on_gpu else 0
    model_cpus = 0.25 if gpus else 0.5
    # One decode actor plus the two model actors must fit in what is free now (a laptop running
    # `dam serve` has given some CPUs to Serve); otherwise Ray Data would wait for them forever.
    free = ray.available_resources().get("CPU", 0.0)
    scale = min(1.0, max(free, 0.1) / (1.0 + 2 * model_cpus * settings.embed_concurrency))
    room = not decode_gpus and free >= settings.decode_concurrency + 2 * model_cpus * settings.embed_concurrency
    ds = _decoded(settings, shards, scale, decode_gpus, room)
    ds = ds.map(_bind(DetectShots, conf), num_cpus=model_cpus * scale, num_gpus=gpu_share,
                compute=ActorPoolStrategy(size=settings.embed_concurrency))
    ds = ds.map(_bind(EmbedFrames, conf), num_cpus=model_cpus * scale, num_gpus=gpu_share,
                compute=ActorPoolStrategy(size=settings.embed_concurrency))
    yield from ds.iter_rows()


def _bind(stage: type, conf: dict) -> type:
    """A subclass carrying the settings, so actors need no constructor arguments in the object
    store (which Ray cannot restore if an actor restarts after they are gone)."""
    return type(stage.__name__, (stage,), {"__init__": lambda self: stage.__init__(self, conf)})
