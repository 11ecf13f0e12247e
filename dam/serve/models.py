"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from dam.schema import ErrorRecord, Hit


class IngestRequest(BaseModel):
    paths: list[str] = Field(min_length=1, max_length=10_000)
    levels: Literal["L0", "L2", "L3"] = "L3"


class SeedIngestRequest(BaseModel):
    """The seed's body: one path; L1–L3 in the background unless generate_levels is false."""

    path: str = Field(min_length=1, max_length=4096)
    generate_levels: bool = True


class IngestAccepted(BaseModel):
    job: str
    assets: list[dict]
    errors: list[ErrorRecord]


class SeedIngestAccepted(BaseModel):
    uuid: str | None
    levels: dict[str, int]
    job: str
    errors: list[ErrorRecord] = []


class SyncRequest(BaseModel):
    """Clips of one event (files, or folders of them) to line up by their audio; the reference
    defaults to the longest."""

    paths: list[str] = Field(min_length=1, max_length=200)
    reference: str | None = Field(None, max_length=4096)


class SyncResponse(BaseModel):
    group: str
    reference: str
    results: list[dict]
    errors: dict[str, str] = {}
    seconds: float
    timeline: dict


class SearchResults(BaseModel):
    hits: list[Hit]
    notice: str | None = Field(None, description="Set when the text names no subject the picture model knows.")


class ErrorBody(BaseModel):
    error: str
    detail: str | list | None = None


class BackupRequest(BaseModel):
    backup_root: str = Field(min_length=1, max_length=4096, description="Inside DAM_BACKUP_ROOTS; relative: to the first.")
    dry_run: bool = False


class RatingRequest(BaseModel):
    rating: int | None = Field(None, ge=0, le=5, description="Stars 0–5; omitted: unchanged.")
    flag: Literal["pick", "reject", ""] | None = Field(None, description='"" clears the flag; omitted: unchanged.')


class MotionExtractRequest(BaseModel):
    """`POST /motion/extract`: a file inside the media roots, optional analysis overrides."""

    path: str = Field(min_length=1, max_length=4096)
    sensitivity: float | None = Field(None, ge=0, le=1)
    fps: float | None = Field(None, ge=0, le=120)
    zones: list[tuple[float, float, float, float]] | None = Field(None, max_length=64)
    masks: list[tuple[float, float, float, float]] | None = Field(None, max_length=64)


class TagEdit(BaseModel):
    """`POST /assets/{id}/tags`: a person's edit; kept across re-enrichment."""

    add: list[str] = Field(default_factory=list, max_length=200)
    remove: list[str] = Field(default_factory=list, max_length=200)
    description: str | None = Field(None, max_length=4000)


class EnrichRequest(BaseModel):
    """`POST /enrich`: asset ids (or prefixes/paths); empty: every asset."""

    assets: list[str] = Field(default_factory=list, max_length=10000)


class PublishRequest(BaseModel):
    """`POST /publish`: assets (ids/paths; empty: all) to a configured target."""

    target: str = Field(min_length=1, max_length=200)
    assets: list[str] = Field(default_factory=list, max_length=10000)
    dry_run: bool = False


class WebRTCOffer(BaseModel):
    """A browser's SDP offer for a camera's live preview, and the overlay to show on it."""

    sdp: str = Field(min_length=1, max_length=64_000)
    type: Literal["offer"] = "offer"
    overlay: Literal["none", "false_colour", "zebra", "peaking"] | None = None
    ire: float = Field(95.0, ge=0, le=109, description="Zebra threshold, IRE.")
    boxes: bool = Field(True, description="Draw motion boxes.")
    width: int = Field(960, ge=64, le=3840, description="Downsize wider frames to this width.")


class WebRTCAnswer(BaseModel):
    sdp: str
    type: Literal["answer"] = "answer"
    session: str
