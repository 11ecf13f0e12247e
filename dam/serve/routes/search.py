"""Search by text and by picture, retried on another replica when one dies.
A mixin of dam.serve.api.Api: the routes use its handles (self.library, ...) and self._inside."""

import asyncio
import io

import numpy as np
from fastapi import Query, Request
from fastapi.responses import Response
from ray.exceptions import RayActorError

from dam.errors import Unreadable
from dam.search import unknown_subject
from dam.serve.http import (
    SEARCH_TRIES,
    ApiError,
    app,
    declared_at_most,
    log,
    multipart_doc,
    search_filters,
    with_urls,
)
from dam.serve.models import SearchResults
from dam.serve.multipart import read_files


class SearchRoutes:
    # --- search ---
    @app.get("/search", response_model=SearchResults)
    async def search(self, response: Response, q: str = Query(..., min_length=1, max_length=500),
                     type: str | None = Query(None, pattern="^(video|image|audio)$"),
                     limit: int = Query(20, ge=1, le=200),
                     motion: bool | None = Query(None, description="Only footage with (true) or without motion."),
                     motion_from: float | None = Query(None, ge=0, description="Motion after this second."),
                     motion_to: float | None = Query(None, ge=0, description="Motion before this second.")) -> dict:
        visual, sentence = await self.encoder.encode_text.remote(q)
        filters = search_filters(type, motion=motion, motion_from=motion_from, motion_to=motion_to)

        return {**await self._search(response, q, None, visual, sentence, limit, filters),
                "notice": unknown_subject(q, visual)}

    @app.post("/search/image", response_model=SearchResults, openapi_extra=multipart_doc("file", False))
    async def search_image(self, request: Request, response: Response,
                           type: str | None = Query(None, pattern="^(video|image|audio)$"),
                           limit: int = Query(20, ge=1, le=200)) -> dict:
        """Moments like a picture (multipart `file`)."""
        from PIL import Image, UnidentifiedImageError

        cap = self.settings.max_query_image_mb << 20
        declared_at_most(request, cap + 64 * 1024, "a query picture")  # the form's own bytes besides the file
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
        return await self._search(response, None, vec, None, None, limit, search_filters(type))

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
        return with_urls(out["hits"])
