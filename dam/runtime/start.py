"""Start or attach to Ray: the one place dam calls `ray.init`, with the settings every process
it starts inherits (Serve's fast path, loopback-only listeners, quiet logs, clean exit)."""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
import threading

import ray

from dam.config import Settings

# Ray Serve's request path with less machinery per hop: replicas call each other over gRPC,
# user code runs on the replica's event loop (no thread hand-off), access logs go to files only.
# Parts of RAY_SERVE_THROUGHPUT_OPTIMIZED: handles stay usable from plain threads (the camera
# manager's), which the router sharing the caller's loop would not allow, and direct ingress is
# set up by `dam serve` itself (dam.serve.app.run). The Api's handles ask for gRPC explicitly
# (dam.serve.api). Measured on 2 cores, 100k vectors: README, Search. A cluster sets the same
# variables on `ray start` (cluster.yaml).
SERVE_FAST_PATH = {"RAY_SERVE_USE_GRPC_BY_DEFAULT": "1", "RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD": "0",
                   "RAY_SERVE_LOG_TO_STDERR": "0", "RAY_SERVE_REQUEST_PATH_LOG_BUFFER_SIZE": "1000"}

# The resource Ray gives the head node only: what must live beside the head's disk asks for it.
HEAD = "node:__internal_head__"


def ensure_ray(settings: Settings) -> None:
    """Attach to `settings.ray_address`, or start a local Ray for one machine; once per process."""
    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    for name, value in SERVE_FAST_PATH.items():  # read by the Serve processes this Ray starts
        os.environ.setdefault(name, value)
    if settings.ray_address:
        ray.init(address=settings.ray_address, logging_level=logging.ERROR, log_to_driver=False)
    else:
        _loopback_only()
        # Local Ray for one machine: no dashboard. Ray's processes redirect their output to files
        # in the session's log folder; fate-sharing (PR_SET_PDEATHSIG, Linux) ends GCS and raylet
        # with this process, and their agents end themselves once the raylet is gone (~65 s after
        # a SIGKILL: they first try to report the death to the dead GCS, 60 s timeout).
        # "local": a Ray of its own. With no address, ray.init joins the newest cluster anyone
        # started with `ray start` on this machine (and runs dam's work on workers that may not
        # even have dam); RAY_ADDRESS, as `ray job submit` sets it, still means attach.
        ray.init(address=None if os.environ.get("RAY_ADDRESS") else "local", include_dashboard=False,
                 logging_level=logging.ERROR, log_to_driver=False,
                 runtime_env={"worker_process_setup_hook": "dam.runtime.loopback.grpc_on_loopback"})
        _exit_cleanly_on_sigterm()
    _errors_to_stderr()
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.verbose_stats_logs = False


def _loopback_only() -> None:
    """Every Ray listener of an embedded Ray on 127.0.0.1. Ray takes its node address from
    `get_node_ip_address()`, which is loopback only when multi-node support is off
    (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, read when Ray is imported); `ray.init(_node_ip_address=
    "127.0.0.1")` does not do it (Ray 2.60 turns a loopback address into the external one). With
    a loopback node address GCS, raylet, object manager, workers and both agents bind 127.0.0.1;
    before, the GCS, raylet and workers listened on `::` and the agents on the LAN address. Set on
    Ray's constant, not in the environment: a `ray start --address` this process runs later must
    still be able to join a cluster."""
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False  # read at import; this process imported Ray already


def _exit_cleanly_on_sigterm() -> None:
    """SIGTERM ends this process through `sys.exit`, so Ray's atexit `ray.shutdown()` stops every
    Ray process at once (measured: 1.6 s, nothing left) instead of the kernel killing GCS and
    raylet and leaving their agents behind for a minute. Only when nobody else handles SIGTERM."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def _errors_to_stderr() -> None:
    """Ray's driver thread relaying cluster errors ("(raylet) ..." lines; after a raylet death a
    screen of its `[state-dump]`) prints them to sys.stdout even with log_to_driver=False
    (ray._private.worker.listen_error_messages, Ray 2.60): stdout is for `--json`, so they go to
    stderr with Ray's other diagnostics."""
    from ray._private import worker

    relay = worker.print_to_stdstream
    if getattr(relay, "dam_stderr", False):
        return

    def to_stderr(data: dict, ignore_prefix: bool) -> None:
        relay({**data, "is_err": True}, ignore_prefix)

    to_stderr.dam_stderr = True  # type: ignore[attr-defined]
    worker.print_to_stdstream = to_stderr


def has_gpu() -> bool:
    return ray.cluster_resources().get("GPU", 0) > 0


def gpus_per_actor(settings: Settings) -> float:
    if settings.num_gpus is not None:
        return settings.num_gpus
    return 1.0 if has_gpu() else 0.0


def gpu_decode(settings: Settings) -> bool:
    gpu = has_gpu()
    if settings.decode_device == "cuda" and not gpu:
        raise RuntimeError("decode_device=cuda but the Ray cluster has no GPU: set DAM_DECODE_DEVICE=cpu or auto")
    return settings.decode_device == "cuda" or (settings.decode_device == "auto" and gpu)


def free_cpus() -> float:
    """CPUs free now (`dam serve` holds some for Serve): what a pool started now may ask for."""
    return ray.available_resources().get("CPU", 0.0)


def decode_actors(settings: Settings) -> int:
    """The decode pool's size: `decode_concurrency`, else one actor per CPU free now less one
    for the shot and embed actors, at least two. A fixed 2 left 12 of a 16-core node's cores
    idle; on 2 cores two decoders (sharing them with the model actors) reached 0.94x
    `ffmpeg -f null` where one reached 0.48x (issue 21)."""
    if settings.decode_concurrency:
        return settings.decode_concurrency
    ensure_ray(settings)
    return max(2, math.floor(free_cpus() - 1.0))


def with_decode_actors(settings: Settings) -> Settings:
    """`settings` with the decode pool's size resolved (once per job: free CPUs change)."""
    return settings.model_copy(update={"decode_concurrency": decode_actors(settings)})
