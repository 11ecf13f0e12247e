"""Compose the Serve application: ingress -> (query encoder, library service).

    dam serve                                         # local, embedded, 127.0.0.1:8000
    serve run dam.serve.app:build data_dir=/srv/dam   # or `serve deploy serve_config.yaml`
"""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

import ray
from ray import serve

from dam.actors.manager import start_manager
from dam.actors.sources import classify
from dam.actors.watcher import start_watchers
from dam.config import Settings
from dam.runtime.serve import DIRECT_INGRESS, direct_ingress_env, serve_running
from dam.runtime.start import HEAD, ensure_ray, has_gpu
from dam.serve.api import Api
from dam.serve.search import Searcher
from dam.serve.service import LibraryService, QueryEncoder


def build(args: dict | None = None, settings: Settings | None = None, direct_ingress: bool = False):
    """Application builder (Serve calls it with the config's `args`, which override DAM_*).
    `direct_ingress`: the `Api` replica listens on the HTTP port itself (see `run`)."""
    settings = settings or Settings(**(args or {}))
    if not settings.media_roots:
        settings = settings.model_copy(update={"media_roots": [Path.cwd()]})
    conf = settings.model_dump(mode="json")
    gpus = 0.25 if ray.is_initialized() and has_gpu() else 0
    encoder = QueryEncoder.options(ray_actor_options={"num_cpus": 0, "num_gpus": gpus}).bind(conf)
    # Cluster mode: the data dir (thumbnails, proxies) is on the head, so its writer and the
    # ingress that serves those files run there; searches can run anywhere.
    on_head = {"num_cpus": 0, "resources": {HEAD: 0.001}} if settings.catalog_mode == "actor" else {"num_cpus": 0}
    library = LibraryService.options(ray_actor_options=on_head).bind(conf)
    searcher = None
    if settings.chroma_url:  # vectors on a server: any replica on any node can search
        searcher = Searcher.options(num_replicas=settings.search_replicas).bind(conf)
    api_options = {**on_head, "runtime_env": {"env_vars": {DIRECT_INGRESS: "1"}}} if direct_ingress else on_head
    return Api.options(ray_actor_options=api_options).bind(library, encoder, conf, searcher)


class PortInUse(OSError):
    pass


def _bind(host: str, port: int) -> int:
    """The port `port` (0: any free one) gets on `host`; PortInUse when it is taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is free
        try:
            s.bind((host, port))
        except OSError as e:
            raise PortInUse(f"{host}:{port} is in use ({e.strerror}): stop what listens there "
                            f"or choose another port (--port, DAM_PORT)") from None
        return s.getsockname()[1]


def run(settings: Settings, blocking: bool = True) -> None:
    """Start dam on a local Ray (or DAM_RAY_ADDRESS) and serve HTTP on settings.host:port."""
    if not settings.ray_address:  # fail now, not after Serve's replica has retried the port for a while
        _bind(settings.host, settings.port)
    ensure_ray(settings)
    # Serve's HTTP proxy is one more process on every request: its own parse, routing and an
    # actor call (3.5-4.5 ms of CPU per search here). When this call starts Serve, the ingress
    # replica answers on settings.port directly, and the proxy (which Serve still runs) gets a
    # spare port. A Serve already running (a cluster's) keeps its proxy on settings.port.
    direct = not serve_running()
    logging.getLogger("ray.serve").setLevel(logging.WARNING)  # its "ready at" names the proxy's port
    serve.start(http_options={"host": settings.host, "port": _bind(settings.host, 0) if direct else settings.port},
                logging_config={"log_level": "WARNING"},
                controller_options={"runtime_env": {"env_vars": direct_ingress_env(settings.port)}} if direct else None)
    cameras = bool(settings.camera_sources or settings.camera_watch_dir)
    if settings.camera_sources:  # a file named relative to where `dam serve` runs, not the actor's cwd
        settings = settings.model_copy(update={"camera_sources": [
            str(Path(u).expanduser().resolve()) if classify(u) == "file" else u for u in settings.camera_sources]})
    serve.run(build(settings=settings, direct_ingress=direct), name="dam", route_prefix="/",
              blocking=blocking and not cameras)
    if cameras:
        # The manager is a named actor owned by this driver, and Ray destroys an actor whose
        # owner holds no handle to it ("has no references, destroying actor": cameras never
        # started under `dam serve` while the tests, which kept the handle, passed). The driver
        # is what lives exactly as long as `dam serve`: a detached actor would outlive Ctrl-C on
        # a cluster, and a Serve replica is restarted or scaled by Serve, which would restart
        # every camera with it. So the driver keeps the handle for the life of the app.
        _HELD[:] = [start_manager(settings, serve.get_deployment_handle("LibraryService", app_name="dam"))]
        if settings.camera_watch_dir:
            _HELD.append(start_watchers(settings.camera_watch_dir))
        try:
            while blocking:  # Ctrl-C ends it; the camera actors end with this driver
                time.sleep(3600)
        finally:
            if blocking:  # finalise the clips in progress before Ray goes down with the driver
                _stop_cameras()


_HELD: list = []  # handles that must live as long as the app this driver started


def _stop_cameras() -> None:
    """Stop the cameras (each clip in progress is finalised) and drop the handles."""
    if _HELD:
        try:
            ray.get(_HELD[0].shutdown.remote(), timeout=60)
        except Exception as e:  # noqa: BLE001 - Ray is going down anyway; say why the clip may be a .part
            logging.getLogger(__name__).warning("cameras did not stop cleanly: %s", e)
    _HELD.clear()
