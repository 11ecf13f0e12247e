"""Models shared by the CLI, the HTTP API and storage: what dam says about media."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

MediaKind = Literal["video", "audio", "image"]


class VideoStream(BaseModel):
    codec: str | None = None
    profile: str | None = None
    width: int
    height: int
    fps: float | None = Field(None, description="Average frame rate.")
    variable_frame_rate: bool = False
    frame_count: int | None = None
    rotation: int = 0
    pix_fmt: str | None = None
    bit_depth: int | None = None
    color_transfer: str | None = None
    color_primaries: str | None = None
    hdr: bool = False
    bit_rate: int | None = None


class AudioStream(BaseModel):
    codec: str | None = None
    channels: int | None = None
    channel_layout: str | None = None
    sample_rate: int | None = None
    bit_rate: int | None = None


class MediaInfo(BaseModel):
    """ffprobe's view of one file, normalised."""

    kind: MediaKind
    container: str
    duration: float | None = None
    size: int
    bit_rate: int | None = None
    video: VideoStream | None = None
    audio: list[AudioStream] = Field(default_factory=list)
    creation_time: datetime | None = None
    make: str | None = None
    model: str | None = None
    timecode: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def display_size(self) -> tuple[int, int] | None:
        """Width and height as shown, after rotation metadata."""
        if not self.video:
            return None
        w, h = self.video.width, self.video.height
        return (h, w) if self.video.rotation % 180 else (w, h)


class Asset(BaseModel):
    id: str
    path: str
    name: str
    kind: MediaKind
    content_hash: str
    size: int
    mtime: float
    status: Literal["new", "indexed", "error", "missing"]
    info: MediaInfo | None = None
    levels: dict[str, int] = Field(default_factory=dict)
    encoder: str | None = None
    poster: str | None = None
    error: str | None = None
    added_at: datetime
    indexed_at: datetime | None = None
    damaged: list[tuple[float, float]] = Field(
        default_factory=list, description="Time ranges (seconds) that could not be decoded; the rest is indexed.")


class Scene(BaseModel):
    asset_id: str
    index: int
    start: float
    end: float
    start_frame: int
    end_frame: int
    transition: Literal["cut", "gradual", "start"] = "cut"
    hero_time: float | None = None
    thumbnail: str | None = None


class Relation(BaseModel):
    kind: Literal["near_duplicate", "similar_scene", "multicam"]
    asset_id: str
    other_id: str
    score: float
    detail: dict = Field(default_factory=dict)


class Hit(BaseModel):
    """One moment in the results: where to look and why it matched."""

    asset_id: str
    path: str
    start: float
    end: float
    score: float
    level: Literal["L0", "L1", "L2", "text", "motion"]
    at: float | None = Field(None, description="The best-matching instant inside [start, end].")
    why: str
    thumbnail: str | None = None
    moments: int = 1
    also_in: list[str] = Field(default_factory=list, description="Near-duplicates (proxies, re-encodes) of this "
                               "file that hold the same moment; the hit is shown on the original.")


class ErrorRecord(BaseModel):
    path: str
    reason: str
    stage: str


class Job(BaseModel):
    id: str
    kind: str
    status: Literal["queued", "running", "done", "failed", "interrupted"]
    total: int = 0
    done: int = 0
    failed: int = 0
    errors: list[ErrorRecord] = Field(default_factory=list)
    created_at: datetime
    finished_at: datetime | None = None
    detail: dict = Field(default_factory=dict)


class ScanReport(BaseModel):
    root: str
    seen: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: int = 0
    errors: list[ErrorRecord] = Field(default_factory=list)
    seconds: float = 0.0


class IngestReport(BaseModel):
    job: str
    assets: list[dict] = Field(default_factory=list)
    indexed: int = 0
    unchanged: int = 0
    failed: int = 0
    damaged: int = Field(0, description="Files indexed for what decodes, with lost ranges (listed in errors, "
                                        "stage 'damaged').")
    errors: list[ErrorRecord] = Field(default_factory=list)
    video_seconds: float = 0.0
    seconds: float = 0.0
    downloaded: int = Field(0, description="Objects copied from an object store by this run.")
    nodes: dict[str, list[str]] = Field(default_factory=dict, description="Ray nodes each stage ran on (decode, embed).")
    busy: dict[str, dict[str, float]] = Field(default_factory=dict, description="Each stage's actors (process id) and "
                                              "the fraction of the L1/L2 run they spent working (decode, shots, embed).")


class Note(BaseModel):
    """A timed note: a scene, a transcript section or a motion interval."""

    start: float
    end: float
    text: str
    kind: str = "scene"
