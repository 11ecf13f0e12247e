"""Motion and camera movement from the stored motion timeline (dam.motion): whether things move,
and static (tripod) vs moving (handheld, pans) camera from how long global motion lasted."""

from __future__ import annotations

from dam.enrich.model import Context, Label, Source, SourceSkipped

HANDHELD = 0.3  # share of the clip with camera motion above which the camera is called moving


class Motion(Source):
    name = "motion"

    def labels(self, ctx: Context) -> list[Label]:
        tl = ctx.motion
        if tl is None:
            raise SourceSkipped("no motion timeline (dam motion / DAM_MOTION_ON_INGEST)")
        dur = max(tl.duration, 1e-6)
        moving = sum(i.end - i.start for i in tl.intervals if i.kind == "object") / dur
        camera = sum(i.end - i.start for i in tl.intervals if i.kind == "camera") / dur
        out = [Label(name="motion" if tl.has_motion else "still", facet="movement", source=self.name,
                     confidence=round(min(1.0, 0.6 + moving) if tl.has_motion else 0.8, 3))]
        out.append(Label(name="handheld" if camera >= HANDHELD else "static camera", facet="camera",
                         source=self.name, confidence=round(min(1.0, 0.5 + abs(camera - HANDHELD)), 3)))
        return out
