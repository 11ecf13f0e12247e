"""The Serve deployments behind the HTTP ingress.

`LibraryService` owns the Library (catalog writer + vector store): one replica, because embedded
Chroma and the SQLite writer belong to exactly one process. `QueryEncoder` turns queries into
vectors in batches, on a GPU when the cluster has one."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from ray import serve

from dam.config import Settings
from dam.schema import ErrorRecord


@serve.deployment(num_replicas=1, max_ongoing_requests=64, ray_actor_options={"num_cpus": 0})
class LibraryService:
    def __init__(self, settings: dict):
        from dam.library import Library

        self.settings = Settings(**settings)
        self.library = Library(self.settings)
        # L1+ of one job at a time: a second job queues instead of fighting for the same cores.
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")
        self._lock = threading.Lock()

    # --- ingest ---
    def start_ingest(self, paths: list[str], levels: str = "L3") -> dict:
        """L0 now (the caller waits seconds), L1–L3 queued in the background."""
        run = self.library.begin_ingest(paths, levels=levels)
        if not run.closed:
            self.library.catalog.update_job(run.job, status="queued")
            self.pool.submit(self._finish, run)
        return {"job": run.job, "assets": run.report.assets,
                "errors": [e.model_dump() for e in run.report.errors]}

    def _finish(self, run) -> None:
        self.library.catalog.update_job(run.job, status="running")
        try:
            self.library.finish_ingest(run)
        except Exception as e:  # the job row says what happened; the service stays up
            self.library.catalog.record_error(run.job, ErrorRecord(path="*", reason=f"{type(e).__name__}: {e}",
                                                                   stage="ingest"))

    def scan(self, root: str) -> dict:
        return self.library.scan(root).model_dump(mode="json")

    # --- reads ---
    def search(self, text: str | None, image_vec, visual_text, sentence, limit: int, filters: dict) -> list[dict]:
        from dam.library import QueryVectors
        from dam.search import Filters

        q = QueryVectors(text=text, image=image_vec, visual_text=visual_text, sentence=sentence)
        return [h.model_dump(mode="json") for h in self.library.search(limit=limit, filters=Filters(**filters), query=q)]

    def asset(self, ref: str) -> dict | None:
        a = self.library.catalog.asset(ref)
        if a is None:
            return None
        data = a.model_dump(mode="json")
        data["scenes"] = [s.model_dump(mode="json") for s in self.library.catalog.scenes(a.id)]
        data["relations"] = [r.model_dump(mode="json") for r in self.library.catalog.relations(a.id)]
        from dam.motion.store import summary

        data["motion"] = summary(self.library.catalog, a.id)
        return data

    def motion(self, path: str, overrides: dict) -> dict:
        """Analyse (and store) one file's motion; DecodeError becomes {error} for the ingress."""
        from dam.media.decode import DecodeError
        from dam.motion.model import MotionParams

        try:
            asset_id, tl = self.library.motion(path, MotionParams.from_settings(self.settings, **overrides))
        except DecodeError as e:
            return {"error": str(e)}
        return {"asset_id": asset_id, **tl.model_dump(mode="json")}

    def stored_motion(self, asset_id: str) -> dict | None:
        from dam.motion.store import load

        tl = load(self.library.catalog, asset_id)
        return None if tl is None else tl.model_dump(mode="json")

    def recent(self, limit: int) -> list[dict]:
        return [a.model_dump(mode="json") for a in self.library.get_recent(limit)]

    def job(self, job_id: str) -> dict | None:
        j = self.library.catalog.job(job_id)
        return j.model_dump(mode="json") if j else None

    def jobs(self, limit: int, kind: str | None = None) -> list[dict]:
        return [j.model_dump(mode="json") for j in self.library.catalog.jobs(limit) if kind is None or j.kind == kind]

    def stats(self) -> dict:
        lib = self.library
        counts = lib.catalog.counts()
        vectors = {level: lib.store.count(level, lib.key) for level in ("l0", "l1", "l2")}
        vectors["text"] = lib.store.count("text", lib.text_encoder_key)
        return {**counts, "vectors": vectors, "encoder": lib.key}

    def roots(self) -> list[str]:
        return [str(r) for r in self.settings.resolved_roots()]


@serve.deployment(num_replicas=1, max_ongoing_requests=128, ray_actor_options={"num_cpus": 0},
                  autoscaling_config=None)
class QueryEncoder:
    def __init__(self, settings: dict):
        from dam.encoders import load_image_encoder, load_text_encoder

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
