"""Open the catalog as configured: embedded (this process opens the SQLite file) or through the
one writer actor on the Ray head (dam.runtime.catalog_actor.RemoteCatalog). Same interface either way."""

from __future__ import annotations

from dam.catalog import Catalog
from dam.config import Settings


def open_catalog(settings: Settings) -> Catalog:
    if settings.catalog_mode == "actor":
        # Ray (about a second to import) only where the catalog lives in an actor: every embedded
        # `dam` command opens the file without it.
        from dam.runtime.catalog_actor import RemoteCatalog
        from dam.runtime.start import ensure_ray

        ensure_ray(settings)
        return RemoteCatalog(settings.catalog_path)  # type: ignore[return-value]
    return Catalog(settings.catalog_path)
