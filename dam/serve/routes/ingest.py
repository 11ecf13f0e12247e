"""Scan and ingest: register folders, index files, take uploads, analyse motion.
A mixin of dam.serve.api.Api: the routes use its handles (self.library, ...) and self._inside."""

import io
import os
import tempfile
from pathlib import Path

from fastapi import Query, Request

from dam.errors import (
    NotConfigured,
    NotFound,
    Unreadable,
)
from dam.serve.http import (
    MAX_UPLOAD_FILES,
    app,
    claim,
    declared_at_most,
    multipart_doc,
    safe_name,
)
from dam.serve.models import (
    IngestAccepted,
    IngestRequest,
    MotionExtractRequest,
    SeedIngestAccepted,
    SeedIngestRequest,
)
from dam.serve.multipart import read_files


class IngestRoutes:
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

    @app.post("/upload", status_code=202, response_model=IngestAccepted, openapi_extra=multipart_doc("files", True))
    async def upload(self, request: Request) -> dict:
        """Files (multipart `files`) stored under `<first root>/uploads/` and ingested. Streamed to
        unique temporary files with the size limit enforced while reading; a refused request
        leaves nothing behind, and a file that is not media is removed after its error."""
        roots = self._roots()
        if not roots:
            raise NotConfigured("configure DAM_MEDIA_ROOTS: uploads are stored in the first root", code="no_media_root")
        limit = self.settings.max_upload_mb << 20
        declared_at_most(request, limit * MAX_UPLOAD_FILES, f"an upload of {MAX_UPLOAD_FILES} files")
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
                saved.append(claim(folder, safe_name(part.filename or "upload"), tmp))
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
