"""The HTTP layer's shared parts: the FastAPI app every route is registered on, the one place
errors become statuses (dam.errors types through STATUS; HTTP protocol errors as ApiError), and
the helpers routes share (upload names, file responses with ranges, thumbnail URLs)."""

import logging
import os
import re
import unicodedata
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

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
from dam.paths import PathNotAllowed
from dam.serve.guard import Guard
from dam.serve.multipart import BodyError

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
    # Raised in a LibraryService replica (a backup root outside DAM_BACKUP_ROOTS), it arrives as
    # RayTaskError(PathNotAllowed), whose str() is the whole traceback: the message is its cause's.
    return JSONResponse({"error": "path_not_allowed", "detail": str(getattr(exc, "cause", exc))}, status_code=403)


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


def claim(folder: Path, name: str, tmp: Path) -> Path:
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


def thumb_url(asset_id: str, path: str | None) -> str | None:
    if not path:
        return None
    stem = Path(path).stem
    if stem == "poster":
        return f"/assets/{asset_id}/poster"
    m = re.fullmatch(r"scene-(\d+)", stem)
    return f"/assets/{asset_id}/scenes/{int(m.group(1))}/thumbnail" if m else None


def with_urls(raw: list[dict]) -> dict:
    for h in raw:
        h["thumbnail"] = thumb_url(h["asset_id"], h.get("thumbnail"))
    return {"hits": raw}


def asset_urls(a: dict) -> dict:
    a["poster"] = thumb_url(a["id"], a.get("poster"))
    for s in a.get("scenes", []):
        s["thumbnail"] = thumb_url(a["id"], s.get("thumbnail"))
    return a


def search_filters(kind: str | None, **motion) -> dict:
    out = {k: v for k, v in motion.items() if v is not None}
    return {"kind": kind, **out} if kind else out


def declared_at_most(request: Request, limit: int, what: str) -> None:
    """Refuse a body by its Content-Length before reading any of it."""
    try:
        declared = int(request.headers.get("content-length") or 0)
    except ValueError:
        raise ApiError(400, "bad_request", "the Content-Length header is not a number") from None
    if declared > limit:
        raise ApiError(413, "too_large", f"{what} is limited to {limit >> 20} MB")


def multipart_doc(field: str, many: bool) -> dict:
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


