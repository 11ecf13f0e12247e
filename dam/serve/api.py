"""The HTTP ingress: FastAPI routes over the Serve deployments, plus the web UI.

Every error is JSON `{error, detail}`; with a token set every route but /healthz and /login
needs it, and Host and Origin are checked (dam.serve.guard, one middleware for all routes); paths
are resolved inside the media roots only; no filename ever reaches a shell."""


import asyncio
import io
import json
import logging
import os
import re
import secrets
import tempfile
import unicodedata
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import ray
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from ray import serve
from ray.exceptions import RayActorError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

from dam.actors.manager import get_manager
from dam.config import Settings
from dam.encoders.registry import cheap_image_encoder
from dam.errors import (
    Conflict,
    DamError,
    InvalidInput,
    NotConfigured,
    NotFound,
    Unavailable,
    Unreadable,
    UpstreamFailed,
)
from dam.library_ops.albums import AlbumSpec
from dam.media.proxy import proxy_path
from dam.motion.overlays import preview_jpeg
from dam.motion.timeline import tracks_csv, tracks_per_frame
from dam.paths import PathNotAllowed, inside_roots
from dam.search import unknown_subject
from dam.serve.guard import COOKIE, Guard, json_parser_errors, session_value
from dam.serve.models import (
    BackupRequest,
    EnrichRequest,
    IngestAccepted,
    IngestRequest,
    MotionExtractRequest,
    PublishRequest,
    RatingRequest,
    SearchResults,
    SeedIngestAccepted,
    SeedIngestRequest,
    SyncRequest,
    SyncResponse,
    TagEdit,
)
from dam.serve.multipart import BodyError, read_files

STATIC = Path(__file__).parent / "static"
SEARCH_TRIES = 3
log = logging.getLogger("ray.serve")
MAX_UPLOAD_FILES = 100  # per POST /upload; the declared Content-Length may be at most this many files
app = FastAPI(title="dam", version="0.1.0",
              description="Index footage, find any moment by text or by example. Errors are `{error, detail}`.")
app.add_middleware(Guard)


class ApiError(HTTPException):
    def __init__(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(status, detail, headers=headers)
        self.error = error


@app.exception_handler(HTTPException)
async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    error = getattr(exc, "error", None) or {401: "unauthorized", 403: "forbidden", 404: "not_found",
                                            405: "method_not_allowed", 413: "too_large"}.get(exc.status_code, "error")
    return JSONResponse({"error": error, "detail": exc.detail}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


@app.exception_handler(RequestValidationError)
async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    detail = [{"loc": list(e.get("loc", [])), "msg": e.get("msg", "")} for e in exc.errors()]
    return JSONResponse({"error": "invalid_request", "detail": detail}, status_code=422)


@app.exception_handler(BodyError)
async def _body_refused(request: Request, exc: BodyError) -> JSONResponse:
    return JSONResponse({"error": exc.error, "detail": exc.detail}, status_code=exc.status)


# The one place a dam.errors type becomes an HTTP status. A LibraryService method's error arrives
# here as Ray's RayTaskError made an instance of the original class: `cause` is the original.
STATUS = {NotFound: 404, InvalidInput: 422, Unreadable: 422, NotConfigured: 409, Conflict: 409,
          Unavailable: 503, UpstreamFailed: 502}


@app.exception_handler(DamError)
async def _refused(request: Request, exc: DamError) -> JSONResponse:
    err = getattr(exc, "cause", exc)
    status = next(code for cls, code in STATUS.items() if isinstance(err, cls))
    return JSONResponse({"error": err.code, "detail": err.detail}, status_code=status)


@app.exception_handler(PathNotAllowed)
async def _forbidden(request: Request, exc: PathNotAllowed) -> JSONResponse:
    return JSONResponse({"error": "path_not_allowed", "detail": str(exc)}, status_code=403)


@app.exception_handler(Exception)
async def _crash(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)  # the trace stays in the server log
    return JSONResponse({"error": "internal_error", "detail": f"{type(exc).__name__}: the server could not do this"},
                        status_code=500)


def safe_name(name: str) -> str:
    """An upload's file name, reduced to a plain name that cannot leave its folder."""
    name = unicodedata.normalize("NFC", Path(name.replace("\\", "/")).name)
    name = re.sub(r"[\x00-\x1f\x7f/]", "", name).strip().lstrip(".")
    return name[:200] or "upload"


def _claim(folder: Path, name: str, tmp: Path) -> Path:
    """Move `tmp` to `folder/name`, or `name (1)`, `name (2)`...: the name is taken with O_EXCL,
    so concurrent uploads of one name each get their own."""
    dest, stem, n = folder / name, Path(name).stem, 1
    while True:
        try:
            os.close(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            break
        except FileExistsError:
            dest, n = folder / f"{stem} ({n}){Path(name).suffix}", n + 1
    os.replace(tmp, dest)
    return dest


def _thumb_url(asset_id: str, path: str | None) -> str | None:
    if not path:
        return None
    stem = Path(path).stem
    if stem == "poster":
        return f"/assets/{asset_id}/poster"
    m = re.fullmatch(r"scene-(\d+)", stem)
    return f"/assets/{asset_id}/scenes/{int(m.group(1))}/thumbnail" if m else None


def _hits(raw: list[dict]) -> dict:
    for h in raw:
        h["thumbnail"] = _thumb_url(h["asset_id"], h.get("thumbnail"))
    return {"hits": raw}


def _asset_urls(a: dict) -> dict:
    a["poster"] = _thumb_url(a["id"], a.get("poster"))
    for s in a.get("scenes", []):
        s["thumbnail"] = _thumb_url(a["id"], s.get("thumbnail"))
    return a


def _filters(kind: str | None, **motion) -> dict:
    out = {k: v for k, v in motion.items() if v is not None}
    return {"kind": kind, **out} if kind else out


def _declared_at_most(request: Request, limit: int, what: str) -> None:
    """Refuse a body by its Content-Length before reading any of it."""
    try:
        declared = int(request.headers.get("content-length") or 0)
    except ValueError:
        raise ApiError(400, "bad_request", "the Content-Length header is not a number") from None
    if declared > limit:
        raise ApiError(413, "too_large", f"{what} is limited to {limit >> 20} MB")


def _multipart_doc(field: str, many: bool) -> dict:
    """The OpenAPI body of a route that streams its multipart body itself (no `File` parameter)."""
    binary = {"type": "string", "format": "binary"}
    schema = {"type": "object", "required": [field],
              "properties": {field: {"type": "array", "items": binary} if many else binary}}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


class MediaFile(FileResponse):
    """A file with HTTP range requests; a bad or unsatisfiable Range is a JSON 416 (Starlette
    answers those in text/plain, a malformed one as 400)."""

    async def __call__(self, scope, receive, send) -> None:
        wanted = Headers(scope=scope).get("range")
        if wanted is not None and scope.get("method") in ("GET", "HEAD"):
            size = os.stat(self.path).st_size
            try:
                self._parse_range_header(wanted, size)
            except (MalformedRangeHeader, RangeNotSatisfiable):
                answer = JSONResponse({"error": "range_not_satisfiable", "detail": f"cannot serve the range "
                                       f"{wanted[:100]!r} of a {size}-byte file"}, status_code=416,
                                      headers={"Content-Range": f"bytes */{size}"})
                return await answer(scope, receive, send)
        await super().__call__(scope, receive, send)


@serve.deployment(num_replicas=1, ray_actor_options={"num_cpus": 0})
@serve.ingress(app)
class Api:
    def __init__(self, library, encoder, settings: dict, searcher=None):
        # By value over the replicas' gRPC servers, not through Ray's object store: on 2 cores a
        # search takes ~2.5 ms less CPU. Asked for here because Serve's default for it
        # (RAY_SERVE_USE_GRPC_BY_DEFAULT) is read when the driver imports ray.serve, before dam
        # has set it, and the handles are made in the driver.
        self.library, self.encoder = library.options(_by_reference=False), encoder.options(_by_reference=False)
        # Searcher replicas when Chroma is a server
        self.searcher = searcher.options(_by_reference=False) if searcher else self.library
        self.settings = Settings(**settings)
        app.state.settings = self.settings

        self.inline_images = cheap_image_encoder(self.settings)  # None: pictures go to QueryEncoder
        from PIL import Image

        # Pillow's own bomb check, besides the size check before decoding (search_image): this
        # replica decodes only query pictures.
        Image.MAX_IMAGE_PIXELS = self.settings.max_query_pixels
        json_parser_errors()  # this replica's uvicorn answers dam's port (direct ingress)

    def _roots(self) -> list[Path]:
        return self.settings.resolved_roots()

    def _inside(self, path: str) -> Path:
        """A path inside the media roots; a relative one is relative to the first root."""
        roots = self._roots()
        if roots and not path.startswith(("/", "~")):
            path = str(roots[0] / path)
        return inside_roots(path, roots)

    # --- health and overview ---
    @app.get("/healthz")
    async def healthz(self) -> dict:
        return {"status": "ok"}

    @app.get("/login", include_in_schema=False)
    async def login_page(self) -> FileResponse:
        return FileResponse(STATIC / "login.html", media_type="text/html")

    @app.post("/login", status_code=204, openapi_extra={"requestBody": {"required": True, "content": {
        "application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["token"],
                                                         "properties": {"token": {"type": "string"}}}}}}})
    async def login(self, request: Request) -> Response:
        """Trade the token for an HttpOnly, SameSite=Strict cookie the page (and its `<video>` and
        `<img>` requests) then carries. A form post is sent back to the page; others get 204."""
        token = self.settings.api_token
        _declared_at_most(request, 4096, "the login form")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > 4096:
                raise ApiError(413, "too_large", "the login form is limited to 4 KB")
        given = (parse_qs(body.decode("utf-8", "replace")).get("token") or [""])[0].strip()
        from_form = "text/html" in request.headers.get("accept", "")
        if token and not secrets.compare_digest(given.encode(), token.encode()):
            if from_form:
                return RedirectResponse("/login?failed=1", status_code=303)
            raise ApiError(401, "unauthorized", "that is not this server's token")
        answer = RedirectResponse("/", status_code=303) if from_form else Response(status_code=204)
        if token:
            answer.set_cookie(COOKIE, session_value(token), httponly=True, samesite="strict", path="/",
                              secure=request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https")
        return answer

    @app.get("/stats")
    async def stats(self) -> dict:
        return await self.library.stats.remote()

    @app.get("/paths")
    async def paths(self) -> dict:
        return {"roots": [{"path": str(r), "exists": r.is_dir()} for r in self._roots()]}

    # --- scan and ingest ---
    @app.post("/scan")
    async def scan(self, dir: str = Query(..., min_length=1, max_length=4096)) -> dict:
        root = self._inside(dir)
        if not root.is_dir():
            raise NotFound(f"{dir} is not a folder")
        return await self.library.scan.remote(str(root))

    @app.post("/ingest", status_code=202, response_model=IngestAccepted)
    async def ingest(self, body: IngestRequest) -> dict:
        paths = [str(self._inside(p)) for p in body.paths]
        missing = [p for p in paths if not os.path.exists(p)]
        if missing:
            raise NotFound(f"no such file or folder: {missing[0]}")
        return await self.library.start_ingest.remote(paths, body.levels)

    @app.post("/api/embedding/videos/ingest", status_code=202, response_model=SeedIngestAccepted)
    async def seed_ingest(self, body: SeedIngestRequest) -> dict:
        path = self._inside(body.path)
        if not path.exists():
            raise NotFound(f"no such file or folder: {body.path}")
        out = await self.library.start_ingest.remote([str(path)], "L3" if body.generate_levels else "L0")
        first = out["assets"][0] if out["assets"] else None
        if first is None and out["errors"]:
            raise Unreadable(out["errors"][0]["reason"])
        return {"uuid": first["uuid"] if first else None, "levels": first["levels"] if first else {},
                "job": out["job"], "errors": out["errors"]}

    @app.post("/motion/extract")
    async def motion_extract(self, body: MotionExtractRequest) -> dict:
        """Motion timeline of one file (intervals, tracks, moving boxes per sampled frame), stored
        with its asset."""
        path = self._inside(body.path)
        if not path.is_file():
            raise NotFound(f"no such file: {body.path}")
        overrides = body.model_dump(exclude={"path"}, exclude_none=True)
        return await self.library.motion.remote(str(path), overrides)

    @app.post("/upload", status_code=202, response_model=IngestAccepted, openapi_extra=_multipart_doc("files", True))
    async def upload(self, request: Request) -> dict:
        """Files (multipart `files`) stored under `<first root>/uploads/` and ingested. Streamed to
        unique temporary files with the size limit enforced while reading; a refused request
        leaves nothing behind, and a file that is not media is removed after its error."""
        roots = self._roots()
        if not roots:
            raise NotConfigured("configure DAM_MEDIA_ROOTS: uploads are stored in the first root", code="no_media_root")
        limit = self.settings.max_upload_mb << 20
        _declared_at_most(request, limit * MAX_UPLOAD_FILES, f"an upload of {MAX_UPLOAD_FILES} files")
        folder = roots[0] / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        temps: list[tuple[Path, io.BufferedWriter]] = []

        def open_temp(_filename: str) -> io.BufferedWriter:
            fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
            temps.append((Path(tmp), os.fdopen(fd, "wb")))
            return temps[-1][1]

        saved: list[Path] = []
        try:
            parts = await read_files(request, "files", open_temp, limit, MAX_UPLOAD_FILES)
            for part, (tmp, sink) in zip(parts, temps):
                sink.close()
                saved.append(_claim(folder, safe_name(part.filename or "upload"), tmp))
        except BaseException:
            for path in saved:
                path.unlink(missing_ok=True)
            raise
        finally:
            for tmp, sink in temps:
                sink.close()
                tmp.unlink(missing_ok=True)
        out = await self.library.start_ingest.remote([str(p) for p in saved], "L3")
        accepted = {a["path"] for a in out["assets"]}
        for path in saved:  # not media: reported in `errors`, not kept in the media root
            if str(path) not in accepted:
                path.unlink(missing_ok=True)
        return out

    # --- library workflows ---
    @app.post("/backup", status_code=202)
    async def backup(self, body: BackupRequest) -> dict:
        """Back up originals, catalog and derived data; a job (`GET /jobs/{id}/status`), or the plan when dry_run."""
        return await self.library.start_backup.remote(body.backup_root, body.dry_run)

    @app.post("/workflow", status_code=202)
    async def workflow(self, request: Request) -> dict:
        """Run a workflow file's JSON (`{"workflow": [{"action": ...}]}`); invalid: 422 and nothing ran."""
        try:
            data = await request.json()
        except ValueError:
            raise InvalidInput("the body is not JSON", code="invalid_workflow") from None
        return await self.library.start_workflow.remote(data)

    @app.post("/sync_album")
    async def sync_album(self, body: AlbumSpec) -> dict:
        """The seed's sync_album: the album mirrors the media under root (a folder of links or copies)."""
        root = self._inside(body.root)
        if not root.is_dir():
            raise NotFound(f"{body.root} is not a folder")
        return await self.library.sync_album.remote({**body.model_dump(), "root": str(root)})

    @app.get("/albums")
    async def albums(self) -> list[dict]:
        return await self.library.albums.remote()

    @app.get("/assets/{asset_id}/sidecar.xmp")
    async def sidecar(self, asset_id: str) -> Response:
        """The asset's XMP sidecar (title, description, keywords, dates, rating, shot markers)."""
        return Response(await self.library.sidecar.remote(asset_id), media_type="application/rdf+xml")

    @app.post("/assets/{asset_id}/rating")
    async def rate(self, asset_id: str, body: RatingRequest) -> dict:
        return await self.library.rate.remote(asset_id, body.rating, body.flag)

    @app.get("/assets/{asset_id}/tags")
    async def tags(self, asset_id: str) -> dict:
        """Tags, classifications (each with source and confidence) and the description."""
        return await self.library.tags.remote(asset_id, None)

    @app.post("/assets/{asset_id}/tags")
    async def edit_tags(self, asset_id: str, body: TagEdit) -> dict:
        return await self.library.tags.remote(asset_id, body.model_dump())

    @app.post("/enrich")
    async def enrich(self, body: EnrichRequest) -> dict:
        """Tag and describe assets now (people's edits are kept)."""
        return await self.library.enrich.remote(body.assets)

    @app.post("/publish")
    async def publish(self, body: PublishRequest) -> dict:
        """Curate, package and upload to a stock target (FTP/FTPS/SFTP); dry_run plans only."""
        return await self.library.publish.remote(body.target, body.assets, body.dry_run)

    @app.post("/sync", response_model=SyncResponse)
    async def sync(self, body: SyncRequest) -> dict:
        """Line clips up by their audio (Ray tasks in parallel); stores `multicam` relations."""
        paths = [str(self._inside(p)) for p in body.paths]
        ref = str(self._inside(body.reference)) if body.reference else None
        missing = [p for p in paths + ([ref] if ref else []) if not os.path.exists(p)]
        if missing:
            raise NotFound(f"no such file or folder: {missing[0]}")
        return await self.library.sync.remote(paths, ref)

    @app.post("/transcribe")
    async def transcribe(self, path: str = Query(..., min_length=1, max_length=4096)) -> dict:
        """Speech to text of one file (segments, sections); stored and searchable. `?format=`
        is not needed: SRT/VTT come from `dam transcribe`."""
        p = self._inside(path)
        if not p.is_file():
            raise NotFound(f"no such file: {path}")
        return await self.library.transcribe.remote(str(p))

    # --- jobs ---
    @app.get("/jobs")
    async def jobs(self, limit: int = Query(20, ge=1, le=500)) -> list[dict]:
        return await self.library.jobs.remote(limit)

    @app.get("/batches")
    async def batches(self, limit: int = Query(20, ge=1, le=500)) -> list[dict]:
        """Ingest batches with their counts (the seed's name for ingest jobs)."""
        return await self.library.jobs.remote(limit, "ingest")

    async def _job(self, job_id: str) -> dict:
        job = await self.library.job.remote(job_id)
        if job is None:
            raise NotFound(f"no job {job_id!r}")
        return job

    @app.get("/jobs/{job_id}/status")
    async def job_status(self, job_id: str) -> dict:
        return await self._job(job_id)

    @app.get("/jobs/{job_id}/events")
    async def job_events(self, job_id: str) -> StreamingResponse:
        """Server-sent events: the job as JSON each time it changes, until it ends."""
        await self._job(job_id)

        async def stream():
            last = None
            for _ in range(36_000):  # an hour at most per connection; the browser reconnects
                job = await self.library.job.remote(job_id)
                text = json.dumps(job)
                if text != last:
                    yield f"data: {text}\n\n"
                    last = text
                if job["status"] in ("done", "failed", "interrupted"):
                    return
                await asyncio.sleep(0.1)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    # --- search ---
    @app.get("/search", response_model=SearchResults)
    async def search(self, response: Response, q: str = Query(..., min_length=1, max_length=500),
                     type: str | None = Query(None, pattern="^(video|image|audio)$"),
                     limit: int = Query(20, ge=1, le=200),
                     motion: bool | None = Query(None, description="Only footage with (true) or without motion."),
                     motion_from: float | None = Query(None, ge=0, description="Motion after this second."),
                     motion_to: float | None = Query(None, ge=0, description="Motion before this second.")) -> dict:
        visual, sentence = await self.encoder.encode_text.remote(q)
        filters = _filters(type, motion=motion, motion_from=motion_from, motion_to=motion_to)

        return {**await self._search(response, q, None, visual, sentence, limit, filters),
                "notice": unknown_subject(q, visual)}

    @app.post("/search/image", response_model=SearchResults, openapi_extra=_multipart_doc("file", False))
    async def search_image(self, request: Request, response: Response,
                           type: str | None = Query(None, pattern="^(video|image|audio)$"),
                           limit: int = Query(20, ge=1, le=200)) -> dict:
        """Moments like a picture (multipart `file`)."""
        from PIL import Image, UnidentifiedImageError

        cap = self.settings.max_query_image_mb << 20
        _declared_at_most(request, cap + 64 * 1024, "a query picture")  # the form's own bytes besides the file
        buffer = io.BytesIO()
        await read_files(request, "file", lambda _name: buffer, cap, 1)
        buffer.seek(0)
        most = self.settings.max_query_pixels
        too_many = f"at most {most:,} pixels of a picture are decoded (DAM_MAX_QUERY_PIXELS)"
        try:
            with Image.open(buffer) as im:  # reads the header only; raises itself past 2x MAX_IMAGE_PIXELS
                w, h = im.size
                if w * h > most:
                    raise ApiError(413, "too_large", f"the picture is {w}x{h}: {too_many}")
                picture = np.asarray(im.convert("RGB"))
        except Image.DecompressionBombError:
            raise ApiError(413, "too_large", too_many) from None
        except (UnidentifiedImageError, OSError, ValueError):
            raise Unreadable("the upload is not a picture dam can read", code="unreadable_image") from None
        if self.inline_images is not None:
            vec = self.inline_images.embed_images([picture])[0]
        else:
            vec = await self.encoder.encode_image.remote(picture)
        return await self._search(response, None, vec, None, None, limit, _filters(type))

    async def _search(self, response: Response, *args) -> dict:
        """A search is a read: if its replica dies under it, ask another (Serve routes around the
        dead one); only when every try fails is it a 503 the client may retry."""
        for attempt in range(SEARCH_TRIES):
            try:
                out = await self.searcher.search.remote(*args)
                break
            except RayActorError as e:  # died or unreachable replica (ActorDiedError, ActorUnavailableError)
                log.warning("search replica lost (%s), try %d of %d", type(e).__name__, attempt + 1, SEARCH_TRIES)
                await asyncio.sleep(0.2 * (attempt + 1))
        else:
            raise ApiError(503, "search_unavailable", "no search replica answered; retry in a few seconds",
                           headers={"Retry-After": "2"})
        response.headers["X-Served-By"] = out["served_by"]
        return _hits(out["hits"])

    # --- assets ---
    @app.get("/assets")
    async def assets(self, limit: int = Query(24, ge=1, le=500)) -> list[dict]:
        return [_asset_urls(a) for a in await self.library.recent.remote(limit)]

    async def _asset(self, asset_id: str) -> dict:
        return await self.library.asset.remote(asset_id)

    @app.get("/assets/{asset_id}")
    async def asset(self, asset_id: str) -> dict:
        return _asset_urls(await self._asset(asset_id))

    @app.get("/assets/{asset_id}/scenes")
    async def scenes(self, asset_id: str) -> list[dict]:
        return _asset_urls(await self._asset(asset_id))["scenes"]

    @app.get("/assets/{asset_id}/motion")
    async def asset_motion(self, asset_id: str, format: str = Query("json", pattern="^(json|csv|tracks)$")):
        """The stored motion timeline; `csv` / `tracks`: its tracks per frame as CSV / JSON."""
        from fastapi.responses import PlainTextResponse

        from dam.motion.model import MotionTimeline

        a = await self._asset(asset_id)
        raw = await self.library.stored_motion.remote(a["id"])
        if raw is None:
            raise NotFound(f"no motion analysis for {asset_id!r}: POST /motion/extract first")
        if format == "json":
            return raw
        tl = MotionTimeline.model_validate(raw)
        size = (a.get("info") or {}).get("video") and (a["info"]["video"]["width"], a["info"]["video"]["height"])
        if format == "csv":
            return PlainTextResponse(tracks_csv(tl.tracks, size or None), media_type="text/csv")
        return tracks_per_frame(tl.tracks, size or None)

    def _file(self, path: str | None, media_type: str | None = None) -> FileResponse:
        if not path or not os.path.isfile(path):
            raise NotFound("no such file")
        return MediaFile(path, media_type=media_type)

    @app.get("/assets/{asset_id}/poster")
    async def poster(self, asset_id: str) -> FileResponse:
        return self._file((await self._asset(asset_id)).get("poster"), "image/jpeg")

    @app.get("/assets/{asset_id}/scenes/{index}/thumbnail")
    async def scene_thumbnail(self, asset_id: str, index: int) -> FileResponse:
        scenes = (await self._asset(asset_id))["scenes"]
        scene = next((s for s in scenes if s["index"] == index), None)
        return self._file(scene and scene.get("thumbnail"), "image/jpeg")

    @app.api_route("/assets/{asset_id}/media", methods=["GET", "HEAD"])
    async def media(self, asset_id: str, original: bool = False) -> FileResponse:
        """The original, with HTTP range requests so players can seek; for sources a browser
        cannot play (ProRes, HEVC) the H.264 proxy made at ingest, unless original=true."""
        a = await self._asset(asset_id)
        proxy = proxy_path(self.settings, a["id"])
        if not original and proxy.is_file():
            return self._file(str(proxy), "video/mp4")
        return self._file(str(self._inside(a["path"])))

    # --- cameras ---
    @app.get("/cameras")
    async def cameras(self) -> list[dict]:
        """Every known camera: node, state, fps, dropped frames, motion, recording, clips."""
        manager = get_manager()
        return [] if manager is None else await manager.cameras.remote()

    async def _camera(self, cam_id: str):
        manager = get_manager()
        found = None if manager is None else await manager.camera.remote(cam_id)
        if found is None:
            raise NotFound(f"no running camera {cam_id!r}")
        return found[0]

    @app.get("/cameras/{cam_id}/mjpeg")
    async def camera_mjpeg(self, cam_id: str, overlay: str | None = Query(None, pattern="^(none|false_colour|zebra|peaking)$"),
                           ire: float = Query(95.0, ge=0, le=109), boxes: bool = True,
                           fps: float = Query(15.0, gt=0, le=60), width: int = Query(960, ge=64, le=3840),
                           frames: int | None = Query(None, ge=1, description="Stop after this many frames.")):
        """Live MJPEG preview with optional overlays: false colour, zebras at `ire`, focus peaking."""
        cam = await self._camera(cam_id)

        async def stream():
            last, sent = -1, 0
            loop = asyncio.get_running_loop()
            while frames is None or sent < frames:
                started = loop.time()
                try:
                    item = await cam.latest_frame.remote()
                    if item is None or item["seq"] == last:
                        await asyncio.sleep(0.01)
                        continue
                    frame = await item["ref"][0]  # shared-memory frame, by reference
                except ray.exceptions.RayError:
                    return  # the camera was unplugged or stopped: end of stream
                last = item["seq"]
                jpeg = await asyncio.to_thread(preview_jpeg, frame, overlay, ire, item["boxes"] if boxes else (), width)
                yield (b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " + str(len(jpeg)).encode()
                       + b"\r\nX-Capture-Time: " + repr(item["t"]).encode() + b"\r\n\r\n" + jpeg + b"\r\n")
                sent += 1
                await asyncio.sleep(max(0.0, 1.0 / fps - (loop.time() - started)))

        return StreamingResponse(stream(), media_type="multipart/x-mixed-replace; boundary=frame",
                                 headers={"Cache-Control": "no-cache"})

    # --- web UI ---
    @app.get("/", include_in_schema=False)
    async def index(self) -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/static/{name}", include_in_schema=False)
    async def static(self, name: str) -> FileResponse:
        """The UI's own files; a plain name only, so nothing outside static/ is reachable."""
        path = STATIC / name
        if not re.fullmatch(r"[\w-]+\.(js|css|html|svg|png|ico)", name) or not path.is_file():
            raise NotFound(f"no static file {name!r}")
        return FileResponse(path)
