"""The Serve deployments behind the HTTP ingress.

`LibraryService` owns the Library (catalog writer + vector store): one replica, because embedded
Chroma and the SQLite writer belong to exactly one process (in cluster mode it runs on the head,
next to the data dir it writes thumbnails into). Searches go to `dam.serve.search.Searcher`
replicas instead when Chroma is a server. `QueryEncoder` turns queries into
vectors in batches, on a GPU when the cluster has one.

Every capability is a dam.usecases function; what it refuses it raises as a dam.errors type,
which reaches the ingress through the handle and becomes a status there (dam.serve.http)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from ray import serve

from dam.config import Settings
from dam.encoders.registry import load_image_encoder, load_text_encoder
from dam.errors import Conflict
from dam.library import Library
from dam.library_ops.albums import AlbumSpec
from dam.serve.search import run_search, served_by
from dam.usecases import assets, index, library, media
from dam.usecases.library import backup_root


@serve.deployment(num_replicas=1, max_ongoing_requests=64, ray_actor_options={"num_cpus": 0})
class LibraryService:
    def __init__(self, settings: dict):
        self.settings = Settings(**settings)
        self.library = Library(self.settings)
        # L1+ of one job at a time: a second job queues instead of fighting for the same cores.
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")
        self.ops = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ops")  # backups, workflows: one at a time
        self._lock = threading.Lock()

    # --- ingest ---
    def start_ingest(self, paths: list[str], levels: str = "L3") -> dict:
        """L0 now (the caller waits seconds), L1–L3 queued in the background."""
        return index.start_ingest(self.library, paths, levels, self.pool.submit)

    # --- library workflows (dam.usecases.library) ---
    def start_backup(self, dest: str, dry_run: bool = False) -> dict:
        """Only inside DAM_BACKUP_ROOTS. A dry run answers at once; a real backup is a background
        job the caller can watch."""
        lib = self.library
        root = backup_root(lib.settings, dest, confined=True)
        if dry_run:
            try:
                return library.backup(lib, root, dry_run=True).model_dump(mode="json")
            except OSError as e:
                raise Conflict(str(e), code="backup_refused") from None
        return {"job": library.start_backup(lib, root, self.ops.submit)}

    def start_workflow(self, data: dict) -> dict:
        """Validate everything (InvalidInput lists the problems), then run the steps in the background."""
        return library.start_workflow(self.library, data, self.ops.submit).model_dump(mode="json")

    def sync_album(self, spec: dict) -> dict:
        return library.sync_album(self.library, AlbumSpec(**spec)).model_dump(mode="json")

    def sidecar(self, asset_id: str) -> bytes:
        return assets.sidecar(self.library, asset_id)

    def albums(self) -> list[dict]:
        return library.albums(self.library)

    def rate(self, asset_id: str, rating: int | None, flag: str | None) -> dict:
        return assets.rate(self.library, asset_id, rating, flag)[1].model_dump(mode="json")

    def tags(self, asset_id: str, edit: dict | None) -> dict:
        a, v = assets.tags(self.library, asset_id, **(edit or {}))
        return v.model_dump(mode="json") if v else {"asset_id": a.id, "labels": [], "description": ""}

    def enrich(self, refs: list[str]) -> dict:
        out = library.enrich(self.library, refs)
        return {"enriched": len(out.assets) - len(out.errors), "errors": out.errors}

    def publish(self, name: str, refs: list[str], dry_run: bool) -> dict:
        return library.publish(self.library, name, refs, dry_run=dry_run).model_dump(mode="json")

    def sync(self, paths: list[str], reference: str | None) -> dict:
        out = media.sync_shoot(self.library, paths, reference)
        return {**out.group.model_dump(mode="json"), "timeline": out.timeline}

    def transcribe(self, path: str) -> dict:
        out = media.transcribe(self.library, path)
        return {"asset_id": out.asset_id, **out.transcript.model_dump(mode="json")}

    def scan(self, root: str) -> dict:
        return index.scan(self.library, root).model_dump(mode="json")

    # --- reads ---
    def search(self, text: str | None, image_vec, visual_text, sentence, limit: int, filters: dict) -> dict:
        """Search here when there is no Searcher deployment (embedded Chroma belongs to this process)."""
        return {"hits": run_search(self.library, text, image_vec, visual_text, sentence, limit, filters),
                "served_by": served_by()}

    def asset(self, ref: str) -> dict:
        return assets.asset_detail(self.library, ref).model_dump(mode="json", exclude={"transcript": {"path"}})

    def motion(self, path: str, overrides: dict) -> dict:
        """Analyse (and store) one file's motion."""
        out = media.analyse_motion(self.library, path, overrides)
        return {"asset_id": out.asset_id, **out.timeline.model_dump(mode="json")}

    def stored_motion(self, asset_id: str) -> dict | None:
        tl = media.stored_motion(self.library, asset_id)
        return None if tl is None else tl.model_dump(mode="json")

    def recent(self, limit: int) -> list[dict]:
        return [a.model_dump(mode="json") for a in index.recent(self.library, limit)]

    def job(self, job_id: str) -> dict | None:
        j = index.job(self.library, job_id)
        return j.model_dump(mode="json") if j else None

    def jobs(self, limit: int, kind: str | None = None) -> list[dict]:
        return [j.model_dump(mode="json") for j in index.jobs(self.library, limit, kind)]

    def stats(self) -> dict:
        return index.stats(self.library)

    def roots(self) -> list[str]:
        return [str(r) for r in self.settings.resolved_roots()]


@serve.deployment(num_replicas=1, max_ongoing_requests=128, ray_actor_options={"num_cpus": 0},
                  autoscaling_config=None)
class QueryEncoder:
    def __init__(self, settings: dict):
        s = Settings(**settings)
        self.image = load_image_encoder(s)
        self.text = load_text_encoder(s)

    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.001)
    async def encode_text(self, texts: list[str]) -> list[tuple]:
        visual = self.image.embed_text(texts)
        sentence = self.text.embed(texts)
        return [(None if visual is None else visual[i], sentence[i]) for i in range(len(texts))]

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.001)
    async def encode_image(self, images: list[np.ndarray]) -> list[np.ndarray]:
        vecs = self.image.embed_images(images)
        return [vecs[i] for i in range(len(images))]
