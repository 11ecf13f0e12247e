"""One asset: its detail, scenes, stored motion, poster and thumbnails, and its media (with ranges).
A mixin of dam.serve.api.Api: the routes use its handles (self.library, ...) and self._inside."""

import os

from fastapi import Query
from fastapi.responses import FileResponse

from dam.errors import NotFound
from dam.media.proxy import proxy_path
from dam.motion.model import MotionTimeline
from dam.motion.timeline import tracks_csv, tracks_per_frame
from dam.serve.http import (
    MediaFile,
    app,
    asset_urls,
)


class AssetRoutes:
    # --- assets ---
    @app.get("/assets")
    async def assets(self, limit: int = Query(24, ge=1, le=500)) -> list[dict]:
        return [asset_urls(a) for a in await self.library.recent.remote(limit)]

    async def _asset(self, asset_id: str) -> dict:
        return await self.library.asset.remote(asset_id)

    @app.get("/assets/{asset_id}")
    async def asset(self, asset_id: str) -> dict:
        return asset_urls(await self._asset(asset_id))

    @app.get("/assets/{asset_id}/scenes")
    async def scenes(self, asset_id: str) -> list[dict]:
        return asset_urls(await self._asset(asset_id))["scenes"]

    @app.get("/assets/{asset_id}/motion")
    async def asset_motion(self, asset_id: str, format: str = Query("json", pattern="^(json|csv|tracks)$")):
        """The stored motion timeline; `csv` / `tracks`: its tracks per frame as CSV / JSON."""
        from fastapi.responses import PlainTextResponse


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
