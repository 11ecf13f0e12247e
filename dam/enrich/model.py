"""What enrichment says and what a source sees. A Label is one tag or classification with the
source that produced it and how sure that source is; `facet` groups classifications
(resolution, light, colour, pace...) so a description can pick one value per facet."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, Field

from dam.config import Settings
from dam.schema import Asset, Scene


class Label(BaseModel):
    name: str
    facet: str = Field("tag", description="'tag' for free tags; otherwise the classification it answers.")
    source: str
    confidence: float = Field(ge=0, le=1)


class Enrichment(BaseModel):
    asset_id: str
    labels: list[Label] = Field(default_factory=list)
    description: str = ""
    skipped: dict[str, str] = Field(default_factory=dict, description="source -> why it did not run")
    scenes: dict[int, list[Label]] = Field(default_factory=dict, description="scene index -> picture labels")

    def names(self) -> list[str]:
        return [lb.name for lb in self.labels]


@dataclass
class Context:
    """Everything a source may read about one asset; optional parts are None when absent."""

    asset: Asset
    frames: np.ndarray  # uint8 [n, h, w, 3] RGB, evenly spread over the asset
    scenes: list[Scene] = field(default_factory=list)
    motion: object | None = None  # dam.motion.model.MotionTimeline
    transcript: object | None = None  # dam.audio.transcribe.Transcript


class Source(ABC):
    """One detector: reads the context, returns labels. Raises SourceSkipped when it cannot run
    (from `from_settings` when it cannot run at all). One subclass in one module under
    dam/enrich/, named in dam.enrich.run.SOURCES."""

    name: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Source:
        return cls()

    @abstractmethod
    def labels(self, ctx: Context) -> list[Label]: ...


class SourceSkipped(Exception):
    pass
