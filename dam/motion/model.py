"""What motion analysis takes and says: parameters, per-frame results, intervals, tracks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Box = tuple[float, float, float, float]  # x, y, w, h as fractions of the frame


class MotionParams(BaseModel):
    """Analysis knobs; `from_settings` fills them from DAM_MOTION_*."""

    width: int = Field(320, ge=64, le=1920, description="Analysis width in pixels (height keeps aspect).")
    fps: float = Field(10.0, ge=0, le=120, description="Frames analysed per second; 0: every frame.")
    sensitivity: float = Field(0.5, ge=0, le=1, description="0 ignores all but big changes, 1 flags faint ones.")
    min_area: float = Field(0.001, ge=0, le=1, description="Smallest moving region, as a fraction of the frame.")
    zones: list[Box] = Field(default_factory=list, description="Only these regions are watched (empty: all).")
    masks: list[Box] = Field(default_factory=list, description="These regions are ignored (clocks, trees, screens).")
    camera_shift: float = Field(0.006, gt=0, description="Global shift per analysed frame (fraction of width) "
                                                         "above which the camera, not objects, is moving.")
    min_gap: float = Field(1.0, ge=0, description="Seconds: intervals closer than this are merged.")
    min_duration: float = Field(0.3, ge=0, description="Seconds: shorter intervals are dropped as flicker.")

    @classmethod
    def from_settings(cls, settings, **override) -> MotionParams:
        base = dict(width=settings.motion_width, fps=settings.motion_fps, sensitivity=settings.motion_sensitivity,
                    zones=settings.motion_zones, masks=settings.motion_masks)
        return cls(**{**base, **override})


class FrameMotion(BaseModel):
    t: float
    intensity: float = Field(description="Fraction of the watched area that moved.")
    boxes: list[Box] = Field(default_factory=list)
    camera: bool = Field(False, description="The whole picture moved (pan, tilt, shake): not objects.")
    shift: tuple[float, float] = (0.0, 0.0)


class TrackPoint(BaseModel):
    t: float
    box: Box


class Track(BaseModel):
    id: int
    points: list[TrackPoint]

    @property
    def start(self) -> float:
        return self.points[0].t

    @property
    def end(self) -> float:
        return self.points[-1].t


class MotionInterval(BaseModel):
    start: float
    end: float
    kind: Literal["object", "camera"] = "object"
    intensity: float = Field(0.0, description="Peak fraction of the watched area moving.")
    mean_intensity: float = 0.0
    region: Box | None = Field(None, description="Union of the moving boxes.")
    tracks: list[int] = Field(default_factory=list)


class MotionTimeline(BaseModel):
    duration: float
    fps: float = Field(description="Frames analysed per second.")
    size: tuple[int, int] = Field(description="Analysis width, height.")
    params: MotionParams
    intervals: list[MotionInterval] = Field(default_factory=list)
    tracks: list[Track] = Field(default_factory=list)
    frames: list[FrameMotion] = Field(default_factory=list, description="Sampled frames where something moved.")
    seconds: float = Field(0.0, description="Analysis wall time.")

    @property
    def has_motion(self) -> bool:
        return any(i.kind == "object" for i in self.intervals)
