"""The Serve deployments behind the HTTP ingress.

`LibraryService` owns the Library (catalog writer + vector store): one replica, because embedded
Chroma and the SQLite writer belong to exactly one process (in cluster mode it runs on the head,
next to the data dir it writes thumbnails into). Searches go to `dam.serve.search.Searcher`
replicas instead when Chroma is a server. `QueryEncoder` turns queries into
vectors in batches, on a GPU when the cluster has one."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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
        self.ops = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ops")  # backups, workflows: one at a time
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

    # --- library workflows (dam.library_ops) ---
    def start_backup(self, dest: str, dry_run: bool = False) -> dict:
        """A dry run answers at once; a real backup is a background job the caller can watch."""
        from dam.library_ops.backup import BackupError, backup
        from dam.library_ops.jobs import JobTracker

        lib = self.library
        real = Path(dest).resolve()
        if real == lib.settings.root or lib.settings.root in real.parents:
            return {"problem": f"the backup root {dest} must not be inside the data dir"}
        if dry_run:
            try:
                return backup(lib.settings, lib.catalog, dest, dry_run=True).model_dump(mode="json")
            except (BackupError, OSError) as e:
                return {"problem": str(e)}
        tracker = JobTracker(lib.catalog, "backup", detail={"to": dest})
        lib.catalog.update_job(tracker.job, status="queued")

        def work() -> None:
            lib.catalog.update_job(tracker.job, status="running")
            try:
                r = backup(lib.settings, lib.catalog, dest, progress=tracker, job=tracker.job)
            except Exception as e:  # the job row says what happened; the service stays up
                tracker.error(ErrorRecord(path=dest, reason=f"{type(e).__name__}: {e}", stage="backup"))
                tracker.close("failed")
                return
            for e in r.errors:
                tracker.error(e)
            tracker.close("done", copied=r.copied, skipped=r.skipped, bytes=r.bytes_copied)

        self.ops.submit(work)
        return {"job": tracker.job}

    def start_workflow(self, data: dict, backup_roots: list[str]) -> dict:
        """Validate everything, then run the steps in the background; {"problems": [...]} when invalid."""
        from dam.library_ops import workflow as wfl

        def backup_root_ok(path: str) -> Path:
            if not backup_roots:
                raise ValueError("configure DAM_BACKUP_ROOTS: backups are written only inside them")
            real = Path(os.path.realpath(Path(backup_roots[0]) / path))  # an absolute path stays as it is
            if not any(real == Path(r) or Path(r) in real.parents for r in backup_roots):
                raise PermissionError(f"{path} is outside the configured backup roots")
            return real

        try:
            wf = wfl.parse(data)
            wfl.check(self.library, wf, backup_root_ok)
        except wfl.WorkflowError as e:
            return {"problems": e.problems}
        tracker, report = wfl.start(self.library, wf)
        self.library.catalog.update_job(tracker.job, status="queued")
        self.ops.submit(wfl.run, self.library, wf, tracker, report, backup_root_ok)
        return report.model_dump(mode="json")

    def sync_album(self, spec: dict) -> dict:
        from dam.library_ops.albums import AlbumSpec, sync_album

        s = AlbumSpec(**spec)
        root = self.library.allowed(s.root)
        self.library.scan(root)
        return sync_album(self.library.catalog, self.settings.albums_dir, s, root).model_dump(mode="json")

    def sidecar(self, asset_id: str) -> bytes | None:
        from dam.library_ops.describe import describe_asset
        from dam.library_ops.xmp import xmp_packet

        a = self.library.catalog.asset(asset_id)
        return None if a is None else xmp_packet(describe_asset(self.library, a))

    def albums(self) -> list[dict]:
        from dam.library_ops.albums import albums

        return albums(self.library.catalog)

    def rate(self, asset_id: str, rating: int | None, flag: str | None) -> dict | None:
        from dam.library_ops.albums import set_rating

        a = self.library.catalog.asset(asset_id)
        return None if a is None else set_rating(self.library.catalog, a.id, rating, flag).model_dump(mode="json")

    def tags(self, asset_id: str, edit: dict | None) -> dict | None:
        from dam.enrich import store

        a = self.library.catalog.asset(asset_id)
        if a is None:
            return None
        if edit:
            store.edit(self.library.catalog, a.id, edit["add"], edit["remove"], edit["description"])
        v = store.view(self.library.catalog, a.id)
        return v.model_dump(mode="json") if v else {"asset_id": a.id, "labels": [], "description": ""}

    def enrich(self, refs: list[str]) -> dict:
        from dam.enrich.run import enrich_assets

        found = [self.library.catalog.asset(r) for r in refs]
        if None in found:
            return {"missing": refs[found.index(None)]}
        failed = enrich_assets(self.library, found or self.library.catalog.assets(limit=1_000_000))
        return {"enriched": len(found or self.library.catalog.assets(limit=1_000_000)) - len(failed),
                "errors": [{"path": p, "reason": r} for p, r in failed]}

    def publish(self, name: str, refs: list[str], dry_run: bool) -> dict:
        from dam.library_ops.exports import select
        from dam.publish.remote import PublishError
        from dam.publish.run import publish
        from dam.publish.target import PublishConfigError

        try:
            return publish(self.library, name, select(self.library, refs), dry_run).model_dump(mode="json")
        except KeyError as e:
            return {"status": 404, "error": "not_found", "detail": e.args[0]}
        except PublishConfigError as e:
            return {"status": 422, "error": "publish_config", "detail": str(e)}
        except PublishError as e:
            return {"status": 502, "error": "publish_failed", "detail": str(e)}

    def sync(self, paths: list[str], reference: str | None) -> dict:
        from dam.audio.load import AudioError
        from dam.multicam import sync

        try:
            group, timeline = sync(self.library, paths, reference=reference)
        except AudioError as e:
            return {"error": str(e)}
        return {**group.model_dump(mode="json"), "timeline": timeline}

    def transcribe(self, path: str) -> dict:
        from pathlib import Path

        from dam.audio.load import AudioError
        from dam.audio.transcribe import TranscribeConfigError
        from dam.scan import register
        from dam.speech import store, transcribe_file

        reg = register(self.library.catalog, Path(path))
        try:
            tr = transcribe_file(self.settings, path)
        except TranscribeConfigError as e:
            return {"error": "not_configured", "detail": str(e), "status": 409}
        except AudioError as e:
            return {"error": "unreadable_media", "detail": str(e)}
        if reg.asset:
            store(self.library, reg.asset, tr)
        return {"asset_id": reg.asset, **tr.model_dump(mode="json")}

    def scan(self, root: str) -> dict:
        return self.library.scan(root).model_dump(mode="json")

    # --- reads ---
    def search(self, text: str | None, image_vec, visual_text, sentence, limit: int, filters: dict) -> dict:
        """Search here when there is no Searcher deployment (embedded Chroma belongs to this process)."""
        from dam.serve.search import run_search, served_by

        return {"hits": run_search(self.library, text, image_vec, visual_text, sentence, limit, filters),
                "served_by": served_by()}

    def asset(self, ref: str) -> dict | None:
        a = self.library.catalog.asset(ref)
        if a is None:
            return None
        data = a.model_dump(mode="json")
        data["scenes"] = [s.model_dump(mode="json") for s in self.library.catalog.scenes(a.id)]
        data["relations"] = [r.model_dump(mode="json") for r in self.library.catalog.relations(a.id)]
        from dam.speech import transcript_of

        tr = transcript_of(self.library, a.id)
        data["transcript"] = None if tr is None else tr.model_dump(mode="json", exclude={"path"})
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
