"""Library workflows: backup, workflow files, albums, sidecars, ratings and tags, enrichment,
publishing, multi-camera sync and speech; and jobs.
A mixin of dam.serve.api.Api: the routes use its handles (self.library, ...) and self._inside."""

import asyncio
import json
import os

from fastapi import Query, Request
from fastapi.responses import Response, StreamingResponse

from dam.errors import (
    InvalidInput,
    NotFound,
)
from dam.library_ops.albums import AlbumSpec
from dam.serve.http import app
from dam.serve.models import (
    BackupRequest,
    EnrichRequest,
    PublishRequest,
    RatingRequest,
    SyncRequest,
    SyncResponse,
    TagEdit,
)


class LibraryRoutes:
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
