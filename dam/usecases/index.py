"""Index and read the library: scan, ingest (waited for, or as a background job), search, scenes,
recent assets, jobs, the library's counts and its consistency check."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

from dam.consistency import ConsistencyReport, check_library
from dam.encoders.clip import EncoderError
from dam.errors import Conflict, NotFound, Unreadable
from dam.library_ops.workflow import library_stats
from dam.media.decode import DecodeError
from dam.media.photo import read_image
from dam.schema import Asset, ErrorRecord, Hit, IngestReport, Job, ScanReport, Scene
from dam.search import Filters, QueryVectors, unknown_subject


def scan(lib, directory: str | Path, implicit_root: bool = False, progress=None) -> ScanReport:
    """Register the media under a folder (no analysis); a path that is not a folder: Conflict."""
    try:
        return lib.scan(directory, implicit_root=implicit_root, progress=progress)
    except NotADirectoryError as e:
        raise Conflict(str(e), code="not_a_folder") from None


def ingest(lib, paths: Iterable[str | Path], levels: str = "L3", implicit_root: bool = False,
           progress=None) -> IngestReport:
    """Index files and folders up to `levels`, waiting for every level."""
    return lib.ingest(paths, implicit_root=implicit_root, levels=levels, progress=progress)


def start_ingest(lib, paths: list[str], levels: str, submit) -> dict:
    """L0 now (the caller waits seconds); L1-L3 handed to `submit` (an executor's submit: one job at
    a time) as a job the caller can watch. What the background part raises goes on the job's row."""
    run = lib.begin_ingest(paths, levels=levels)
    if not run.closed:
        lib.catalog.update_job(run.job, status="queued")
        submit(_finish_ingest, lib, run)
    return {"job": run.job, "assets": run.report.assets, "errors": [e.model_dump() for e in run.report.errors]}


def _finish_ingest(lib, run) -> None:
    lib.catalog.update_job(run.job, status="running")
    try:
        lib.finish_ingest(run)
    except Exception as e:  # the job row says what happened; the service stays up
        lib.catalog.record_error(run.job, ErrorRecord(path="*", reason=f"{type(e).__name__}: {e}", stage="ingest"))


class Found(BaseModel):
    """A search's moments, and a notice when the text names something the encoder does not know."""

    hits: list[Hit]
    notice: str | None = None


def search(lib, text: str | None = None, image: str | Path | None = None, limit: int | None = None,
           filters: Filters | None = None, query: QueryVectors | None = None) -> Found:
    """Moments by text and/or by a picture file; an unreadable picture: Unreadable, an encoder
    whose weights are missing or corrupt: Conflict (code `encoder`). `query`: the vectors already
    encoded (HTTP search encodes in its QueryEncoder replica, apart from the search replicas)."""
    if query is None:
        picture = None
        if image:
            try:
                picture = read_image(image)[0]
            except DecodeError as e:
                raise Unreadable(f"{image}: {e}") from None
        try:
            query = lib.encode_query(text, picture)
        except EncoderError as e:  # clip weights missing, not downloadable, corrupt: say what to do
            raise Conflict(str(e), code="encoder") from None
    hits = lib.search(limit=limit, filters=filters, query=query)
    return Found(hits=hits, notice=unknown_subject(text, query.visual_text))


def scenes(lib, ref: str, progress=None) -> tuple[IngestReport | None, list[Scene]]:
    """The shots of an asset or a file, indexing the file to L2 first when it is not indexed yet.
    Returns the ingest's report (None when none ran: its errors mean no scenes) and the scenes."""
    a = lib.asset(ref)
    report = None
    if a is None or a.status != "indexed":
        if not Path(ref).exists():
            raise NotFound(f"no asset or file {ref!r}")
        report = lib.ingest([ref], implicit_root=True, levels="L2", progress=progress)
        if report.errors:
            return report, []
        a = lib.asset(ref)
    return report, lib.catalog.scenes(a.id)


def recent(lib, limit: int = 20) -> list[Asset]:
    return lib.get_recent(limit)


def job(lib, job_id: str) -> Job | None:
    return lib.catalog.job(job_id)


def check(lib, files: bool = True) -> ConsistencyReport:
    """Whether catalog, vectors and files agree (reads only); `files`: also stat every file."""
    return check_library(lib, files=files)


def jobs(lib, limit: int, kind: str | None = None) -> list[Job]:
    return [j for j in lib.catalog.jobs(limit) if kind is None or j.kind == kind]


def stats(lib) -> dict:
    """The catalog's counts, the vectors per level and the encoder that made them (`GET /stats`;
    a workflow's `stats` step also counts the albums)."""
    return {k: v for k, v in library_stats(lib).items() if k != "albums"}
