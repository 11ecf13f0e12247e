"""Compose the Serve application: ingress -> (query encoder, library service).

    dam serve                                         # local, embedded, 127.0.0.1:8000
    serve run dam.serve.app:build data_dir=/srv/dam   # or `serve deploy serve_config.yaml`
"""

from __future__ import annotations

from pathlib import Path

import ray
from ray import serve

from dam.config import Settings
from dam.serve.api import Api
from dam.serve.service import LibraryService, QueryEncoder


def build(args: dict | None = None, settings: Settings | None = None):
    """Application builder (Serve calls it with the config's `args`, which override DAM_*)."""
    settings = settings or Settings(**(args or {}))
    if not settings.media_roots:
        settings = settings.model_copy(update={"media_roots": [Path.cwd()]})
    conf = settings.model_dump(mode="json")
    gpus = 0.25 if ray.is_initialized() and ray.cluster_resources().get("GPU", 0) > 0 else 0
    encoder = QueryEncoder.options(ray_actor_options={"num_cpus": 0, "num_gpus": gpus}).bind(conf)
    return Api.bind(LibraryService.bind(conf), encoder, conf)


def run(settings: Settings, blocking: bool = True) -> None:
    """Start dam on a local Ray (or DAM_RAY_ADDRESS) and serve HTTP on settings.host:port."""
    from dam.datasets.pipeline import ensure_ray

    ensure_ray(settings)
    serve.start(http_options={"host": settings.host, "port": settings.port}, logging_config={"log_level": "WARNING"})
    serve.run(build(settings=settings), name="dam", route_prefix="/", blocking=blocking)
