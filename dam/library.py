"""The library: the one owner of the catalog and the vector store. The CLI, the HTTP API and
batch jobs all call these methods, so every entry point behaves the same."""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

import numpy as np

from dam.catalog import now
from dam.config import Settings
from dam.encoders.base import ImageEncoder, TextEncoder
from dam.encoders.registry import image_encoder_key, load_image_encoder, load_text_encoder
from dam.encoders.text import text_key
from dam.ingest_run import AFTER_LEVELS, IngestRun, JobProgress, end_status
from dam.levels import asset_failed, document, levels12, quick_vector, why
from dam.levels import poster as make_poster
from dam.library_ops.jobs import reap_interrupted, this_process
from dam.library_ops.photos import group_live_photos
from dam.media.proxy import proxy_path
from dam.motion.model import MotionParams
from dam.motion.store import motion_hits, save
from dam.paths import PathNotAllowed, expand, inside_roots, walk_files
from dam.progress import Progress, Quiet
from dam.relations import relate
from dam.runtime.catalog import open_catalog
from dam.scan import Registered, register, scan
from dam.schema import Asset, ErrorRecord, Hit, IngestReport, ScanReport, Scene
from dam.search import Filters, QueryVectors, fuse
from dam.signals import SIGNALS
from dam.store import StoreUnavailable, VectorStore, vector_id

log = logging.getLogger("dam")


class Library:
    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self.settings.root.mkdir(parents=True, exist_ok=True)
        self.catalog = open_catalog(self.settings)
        reap_interrupted(self.catalog)
        self._local = threading.local()  # the ingest run of this thread, told when the store waits
        self.key = image_encoder_key(self.settings)
        self._image: ImageEncoder | None = None
        self._text: TextEncoder | None = None
        self._unchanged: list[Asset] = []  # this registration's assets that look complete

    @cached_property
    def store(self) -> VectorStore:
        """Opened on first use: `dam jobs`, `info`, `tag` and their kind read only the catalog, and
        importing and opening Chroma was 0.5-1 s of each such command."""
        return VectorStore(self.settings, on_wait=self._store_waiting)

    @property
    def image_encoder(self) -> ImageEncoder:
        if self._image is None:
            self._image = load_image_encoder(self.settings)
        return self._image

    @property
    def text_encoder(self) -> TextEncoder:
        if self._text is None:
            self._text = load_text_encoder(self.settings)
        return self._text

    def close(self) -> None:
        self.catalog.close()

    def _store_waiting(self, msg: str | None) -> None:
        run: IngestRun | None = getattr(self._local, "run", None)
        if run is not None and not run.closed:
            run.wait_note(msg)

    # --- paths -----------------------------------------------------------------------------

    def allowed(self, path: str | Path, implicit_root: bool = False) -> Path:
        """Resolve a user path against the media roots. With no roots configured, the CLI may
        pass implicit_root=True: what the user names on the command line becomes a root."""
        roots = self.settings.resolved_roots()
        if not roots and implicit_root:
            return expand(path).resolve()
        return inside_roots(path, roots)

    # --- scan ------------------------------------------------------------------------------

    def scan(self, root: str | Path, implicit_root: bool = False, progress: Progress | None = None) -> ScanReport:
        root = self.allowed(root, implicit_root)
        p = progress or Quiet()
        p.start(f"scanning {root}", 0)
        report = scan(self.catalog, root, on_file=lambda r: p.advance(1, r.path.name),
                      roots=self.settings.resolved_roots())
        p.finish()

        group_live_photos(self, {Path(r["path"]).parent for r in self.catalog.files_under(str(root)) if r["asset_id"]})
        return report

    # --- ingest ----------------------------------------------------------------------------

    def _expand(self, paths: Iterable[str | Path], implicit_root: bool, report: IngestReport) -> list[Path]:
        files: list[Path] = []
        for raw in paths:
            if str(raw).lower().startswith("smb://"):
                report.errors.append(ErrorRecord(path=str(raw), stage="paths", reason=(
                    "a network share is pulled first: dam remote add NAME URL, then dam sync-remote NAME --ingest")))
                continue
            try:
                p = self.allowed(raw, implicit_root)
            except PathNotAllowed as e:
                report.errors.append(ErrorRecord(path=str(raw), reason=str(e), stage="paths"))
                continue
            if p.is_dir():
                roots = self.settings.resolved_roots()
                for f in walk_files(p):
                    try:  # a symlink inside a root may point outside it
                        if roots:
                            inside_roots(f, roots)
                        files.append(f)
                    except PathNotAllowed as e:
                        report.errors.append(ErrorRecord(path=str(f), reason=str(e), stage="paths"))
            elif p.is_file():
                files.append(p)
            else:
                report.errors.append(ErrorRecord(path=str(raw), reason="no such file or folder", stage="paths"))
        return list(dict.fromkeys(files))

    def ingest(self, paths: Iterable[str | Path], implicit_root: bool = False, levels: str = "L3",
               progress: Progress | None = None) -> IngestReport:
        """Register files, store L0 at once, then L1/L2 through the Ray pipeline and L3 links.
        `levels` is the highest level to build (L0 stops after the fast part)."""
        run = self.begin_ingest(paths, implicit_root, levels, progress)
        self.finish_ingest(run)
        return run.report

    def begin_ingest(self, paths: Iterable[str | Path], implicit_root: bool = False, levels: str = "L3",
                     progress: Progress | None = None) -> IngestRun:
        """The fast part, done while the caller waits: register every file and store its L0."""
        job = self.catalog.start_job("ingest", owner=this_process())
        run = IngestRun(job=job, report=IngestReport(job=job), levels=levels, catalog=self.catalog)
        self._local.run = run
        run.progress = JobProgress(run, progress or Quiet())
        files = self._expand(paths, implicit_root, run.report)
        self.catalog.update_job(job, total=len(files))
        p = run.progress
        p.start("registering", len(files))
        todo: list[Asset] = []
        for path in files:
            r = register(self.catalog, path)
            p.advance(1, path.name)
            self._after_register(r, run.report, todo)
        p.finish()
        todo += self._incomplete(run.report)

        gone = group_live_photos(self, {f.parent for f in files})  # a Live Photo's MOV joins its photo
        run.report.assets = [x for x in run.report.assets if x["uuid"] not in gone]
        run.todo = [a for a in {a.id: a for a in todo}.values() if a.id not in gone]
        try:
            self._level0(run.todo, run.report, p)
        except BaseException as e:
            run.close(end_status(e))
            raise
        run.refresh_levels()
        if levels == "L0":
            run.close("done")
        return run

    def finish_ingest(self, run: IngestRun) -> IngestReport:
        """The long part (may run in the background): L1/L2 on Ray, then L3 links."""
        if run.closed:
            return run.report
        self._local.run = run
        status = "failed"
        try:
            done = levels12(self, run.todo, run.report, run.progress)
            if run.levels == "L3" and done:
                self._level3(done, run.progress)
            for name in AFTER_LEVELS.names():  # proxies, speech, motion, enrichment: each decides if it runs
                AFTER_LEVELS.get(name)(self, run, done)
            status = "done"
        except BaseException as e:
            status = end_status(e)
            raise
        finally:
            run.close(status)
        return run.report

    def _after_register(self, r: Registered, report: IngestReport, todo: list[Asset]) -> None:
        if r.status == "error" or (r.status == "skipped" and r.error):
            report.errors.append(ErrorRecord(path=str(r.path), reason=r.error or "not media", stage="probe"))
            return
        if r.status == "skipped" or r.asset is None:
            return
        if r.previous and self.catalog.orphaned(r.previous):
            self.forget(r.previous)
        asset = self.catalog.asset(r.asset)
        assert asset is not None
        report.assets.append({"uuid": asset.id, "path": str(r.path), "kind": asset.kind})
        if asset.status == "indexed" and asset.encoder == self.key:
            report.unchanged += 1
            self._unchanged.append(asset)
        else:
            todo.append(asset)

    def _incomplete(self, report: IngestReport) -> list[Asset]:
        """Assets recorded complete whose vectors are not all there (a crash or a lost store
        between two writes): they are indexed again, so nothing stays half-indexed."""
        seen, self._unchanged = list({a.id: a for a in self._unchanged}.values()), []  # copies share an asset
        if not seen:
            return []
        text = self.store.present("text", self.text_encoder_key, [vector_id(a.id, "text", 0) for a in seen])
        visual = [a for a in seen if a.kind in ("video", "image")]
        l0 = self.store.present("l0", self.key, [vector_id(a.id, "l0", 0) for a in visual])
        redo = [a for a in seen if vector_id(a.id, "text", 0) not in text
                or (a.kind in ("video", "image") and vector_id(a.id, "l0", 0) not in l0)]
        report.unchanged -= len(redo)
        return redo

    def forget(self, asset_id: str) -> None:
        """Drop an asset and everything derived from it (its media is gone or changed)."""
        self.store.delete_asset(asset_id)
        self.catalog.delete_asset(asset_id)
        shutil.rmtree(self.settings.thumbs_dir / asset_id, ignore_errors=True)
        proxy_path(self.settings, asset_id).unlink(missing_ok=True)

    def _thumb_dir(self, asset_id: str) -> Path:
        return self.settings.thumbs_dir / asset_id

    def _level0(self, assets: list[Asset], report: IngestReport, p: Progress) -> None:
        """Poster, probe metadata, a first asset vector and the text document: seconds per file.
        Whatever a library raises on one file's content fails that file only; a picture is
        recorded indexed only once its text vector is stored too."""
        p.start("L0 (metadata, poster, asset vector)", len(assets))
        docs, doc_ids, doc_meta, pictures = [], [], [], []
        for a in assets:
            try:
                vec = quick_vector(self, a)
                poster = make_poster(a, self._thumb_dir(a.id))
                if vec is not None:
                    self.store.upsert("l0", self.key, [vector_id(a.id, "l0", 0)], vec[None],
                                      [{"asset_id": a.id, "kind": a.kind, "encoder": self.key}])
                if a.kind == "image" and vec is not None:
                    self.store.upsert("l1", self.key, [vector_id(a.id, "l1", 0)], vec[None],
                                      [{"asset_id": a.id, "t": 0.0, "frame": 0, "scene": 0, "encoder": self.key}])
                self.catalog.set_asset(a.id, poster=poster, levels={"L0": 1}, error=None, status="new",
                                       encoder=a.encoder if a.kind == "video" else None, indexed_at=None)
                if a.kind != "video":
                    pictures.append(a)
                docs.append(document(a))
                doc_ids.append(vector_id(a.id, "text", 0))
                doc_meta.append({"asset_id": a.id, "source": "metadata"})
            except StoreUnavailable:
                raise  # not this file's fault: the job waits for the store, then fails
            except Exception as e:
                asset_failed(self, a, "L0", why(e), report)
            p.advance(1, a.name)
        if docs:
            vecs = self.text_encoder.embed(docs)
            self.store.upsert("text", self.text_encoder_key, doc_ids, vecs, doc_meta, documents=docs)
        for a in pictures:
            self.catalog.set_asset(a.id, status="indexed", encoder=self.key, indexed_at=now())
            report.indexed += 1
        p.finish()

    def _level3(self, asset_ids: list[str], p: Progress) -> None:
        p.start("L3 (near-duplicates, similar scenes)", len(asset_ids))
        for aid in asset_ids:
            rel = relate(aid, self.catalog, self.store, self.key, self.settings)
            a = self.catalog.asset(aid)
            if a is not None:
                self.catalog.set_asset(aid, levels={**a.levels, "L3": len(rel)})
            p.advance(1)
        p.finish()

    # --- search ----------------------------------------------------------------------------

    def encode_query(self, text: str | None = None, image: np.ndarray | None = None) -> QueryVectors:
        """Query vectors; the HTTP app does this in its own (batched, GPU) deployment."""
        q = QueryVectors(text=text)
        if image is not None:
            q.image = self.image_encoder.embed_images([image])[0]
        if text:
            tvec = self.image_encoder.embed_text([text])
            q.visual_text = None if tvec is None else tvec[0]
            q.sentence = self.text_encoder.embed([text])[0]
        return q

    def search(self, text: str | None = None, image: np.ndarray | None = None, limit: int | None = None,
               filters: Filters | None = None, query: QueryVectors | None = None) -> list[Hit]:
        q = query or self.encode_query(text, image)
        text = q.text
        limit = limit or self.settings.search_limit
        n = max(50, limit * 5)
        lists = [found for name in SIGNALS.names() for found in SIGNALS.get(name)(self, q, n)]
        if not lists and filters and filters.on_motion:  # a motion filter alone: the moving moments
            return [h for h in motion_hits(self.catalog, filters.motion_from, filters.motion_to, limit * 3)
                    if filters.accept(self.catalog.asset(h.asset_id))][:limit]
        return fuse(self.catalog, lists, limit, filters)

    def motion(self, path: str | Path, params=None, implicit_root: bool = False):
        """Motion timeline of one file (a path inside the roots), stored with its asset, which
        is registered first when the file is new. Returns (asset id or None, timeline)."""
        from dam.motion.analyze import analyze_file  # SciPy (0.3 s) only when motion is analysed

        p = self.allowed(path, implicit_root)
        if not p.is_file():
            raise FileNotFoundError(f"no such file: {path}")
        tl = analyze_file(p, params or MotionParams.from_settings(self.settings))
        r = register(self.catalog, p)
        if r.asset:
            save(self.catalog, r.asset, tl)
        return r.asset, tl

    @property
    def text_encoder_key(self) -> str:
        return text_key(self.settings.text_model)

    def get_recent(self, limit: int = 20) -> list[Asset]:
        return self.catalog.recent(limit)

    def asset(self, ref: str) -> Asset | None:
        a = self.catalog.asset(ref)
        if a is None and Path(ref).exists():
            a = self.catalog.asset(str(Path(ref).resolve()))
        return a

    def scenes(self, ref: str) -> list[Scene]:
        a = self.asset(ref)
        return self.catalog.scenes(a.id) if a else []


class MediaIndexer:
    """The seed's Python API: `MediaIndexer().scan(path)`, `.get_recent()`, `.search(q)`."""

    def __init__(self, settings: Settings | None = None):
        self.library = Library(settings)

    def scan(self, path: str | Path) -> ScanReport:
        return self.library.scan(path, implicit_root=True)

    def ingest(self, *paths: str | Path) -> IngestReport:
        return self.library.ingest(paths, implicit_root=True)

    def get_recent(self, limit: int = 20) -> list[Asset]:
        return self.library.get_recent(limit)

    def search(self, q: str, limit: int = 20) -> list[Hit]:
        return self.library.search(text=q, limit=limit)
