"""The HTTP ingress: FastAPI routes over the Serve deployments, plus the web UI.

Every error is JSON `{error, detail}`; with a token set every route but /healthz and /login
needs it, and Host and Origin are checked (dam.serve.guard, one middleware for all routes); paths
are resolved inside the media roots only; no filename ever reaches a shell."""

import re
import secrets
from pathlib import Path
from urllib.parse import parse_qs

import ray.cloudpickle
from fastapi import Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from ray import serve

from dam.config import Settings
from dam.encoders.registry import cheap_image_encoder
from dam.errors import NotFound
from dam.paths import inside_roots
from dam.serve.guard import COOKIE, json_parser_errors, session_value
from dam.serve.http import STATIC, ApiError, app, declared_at_most
from dam.serve.routes import assets, cameras, events, ingest, library, search
from dam.serve.routes.assets import AssetRoutes
from dam.serve.routes.cameras import CameraRoutes
from dam.serve.routes.events import EventRoutes
from dam.serve.routes.ingest import IngestRoutes
from dam.serve.routes.library import LibraryRoutes
from dam.serve.routes.search import SearchRoutes

# serve.ingress gives every route method a `self` that Serve fills in (its signature's default),
# then ships the app to the replica pickled. A method of an importable module is pickled by
# reference and comes back without that signature: the replica then asked every mixin route for a
# `self` query parameter (422). The route modules are therefore shipped by value, like Api itself.
for _module in (assets, cameras, events, ingest, library, search):
    ray.cloudpickle.register_pickle_by_value(_module)


# max_ongoing_requests: an open stream (SSE, MJPEG, the events WebSocket) is an ongoing request for
# as long as it lasts; Serve's default of 5 let one page with a preview and its events hold most
# of the ingress. Its handlers only await other replicas and actors.
@serve.deployment(num_replicas=1, max_ongoing_requests=100, ray_actor_options={"num_cpus": 0})
@serve.ingress(app)
class Api(IngestRoutes, LibraryRoutes, SearchRoutes, AssetRoutes, CameraRoutes, EventRoutes):
    """The ingress: health, login and the web UI here; the other routes come from the mixins."""

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
        declared_at_most(request, 4096, "the login form")
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

    # --- web UI ---
    @app.get("/", include_in_schema=False)
    async def index(self) -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/live", include_in_schema=False)
    async def live_page(self) -> FileResponse:
        """Live cameras: WebRTC preview (MJPEG fallback) with overlays, and the events WebSocket."""
        return FileResponse(STATIC / "live.html", media_type="text/html")

    @app.get("/static/{name}", include_in_schema=False)
    async def static(self, name: str) -> FileResponse:
        """The UI's own files; a plain name only, so nothing outside static/ is reachable."""
        path = STATIC / name
        if not re.fullmatch(r"[\w-]+\.(js|css|html|svg|png|ico)", name) or not path.is_file():
            raise NotFound(f"no static file {name!r}")
        return FileResponse(path)

