"""Compose the Serve application: ingress -> (query encoder, library service).

    dam serve                                         # local, embedded, 127.0.0.1:8000
    serve run dam.serve.app:build data_dir=/srv/dam   # or `serve deploy serve_config.yaml`
"""

from __future__ import annotations

import time
from pathlib import Path

import ray
from ray import serve

from dam.actors.catalog import HEAD
from dam.config import Settings
from dam.serve.api import Api
from dam.serve.search import Searcher
from dam.serve.service import LibraryService, QueryEncoder


def build(args: dict | None = None, settings: Settings | None = None):
    """Application builder (Serve calls it with the config's `args`, which override DAM_*)."""
    settings = settings or Settings(**(args or {}))
    if not settings.media_roots:
        settings = settings.model_copy(update={"media_roots": [Path.cwd()]})
    conf = settings.model_dump(mode="json")
    gpus = 0.25 if ray.is_initialized() and ray.cluster_resources().get("GPU", 0) > 0 else 0
    encoder = QueryEncoder.options(ray_actor_options={"num_cpus": 0, "num_gpus": gpus}).bind(conf)
    # Cluster mode: the data dir (thumbnails, proxies) is on the head, so its writer and the
    # ingress that serves those files run there; searches can run anywhere.
    on_head = {"num_cpus": 0, "resources": {HEAD: 0.001}} if settings.catalog_mode == "actor" else {"num_cpus": 0}
    library = LibraryService.options(ray_actor_options=on_head).bind(conf)
    searcher = None
    if settings.chroma_url:  # vectors on a server: any replica on any node can search
        searcher = Searcher.options(num_replicas=settings.search_replicas).bind(conf)
    return Api.options(ray_actor_options=on_head).bind(library, encoder, conf, searcher)


def run(settings: Settings, blocking: bool = True) -> None:
    """Start dam on a local Ray (or DAM_RAY_ADDRESS) and serve HTTP on settings.host:port."""
    from dam.datasets.pipeline import ensure_ray

    ensure_ray(settings)
    serve.start(http_options={"host": settings.host, "port": settings.port}, logging_config={"log_level": "WARNING"})
    cameras = bool(settings.camera_sources or settings.camera_watch_dir)
    serve.run(build(settings=settings), name="dam", route_prefix="/", blocking=blocking and not cameras)
    if cameras:
        from dam.actors.manager import start_manager
        from dam.actors.watcher import start_watchers

        start_manager(settings, serve.get_deployment_handle("LibraryService", app_name="dam"))
        if settings.camera_watch_dir:
            start_watchers(settings.camera_watch_dir)
        while blocking:  # Ctrl-C ends it; the camera actors end with this driver
            time.sleep(3600)
