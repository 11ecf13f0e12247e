"""Labels read straight from the probe: resolution class, orientation, frame rate, HDR, duration
class and codec. Certain (confidence 1): nothing is guessed."""

from __future__ import annotations

from dam.enrich.model import Context, Label, Source, SourceSkipped

CODECS = {"h264": "h.264", "hevc": "h.265", "prores": "prores", "av1": "av1", "vp9": "vp9", "mpeg2video": "mpeg-2",
          "dnxhd": "dnxhd", "mjpeg": "mjpeg"}


def resolution_class(width: int, height: int) -> str:
    short = min(width, height)
    return "8k" if short >= 4000 else "4k" if short >= 2000 else "full hd" if short >= 1000 else \
        "hd" if short >= 700 else "sd"


def duration_class(seconds: float) -> str:
    return "very short" if seconds < 10 else "short" if seconds < 60 else "medium" if seconds < 300 else "long"


class Technical(Source):
    name = "technical"

    def labels(self, ctx: Context) -> list[Label]:
        info = ctx.asset.info
        if info is None or info.video is None:
            raise SourceSkipped("no video stream in the probe")
        v = info.video
        w, h = info.display_size or (v.width, v.height)
        out = [("resolution", resolution_class(w, h)),
               ("orientation", "vertical" if h > w * 1.05 else "square" if abs(h - w) <= w * 0.05 else "horizontal")]
        if ctx.asset.kind == "video":
            if v.fps:
                out.append(("frame rate", f"{round(v.fps, 2):g} fps"))
                if v.fps >= 48:
                    out.append(("tag", "high frame rate"))
            if info.duration:
                out.append(("duration", duration_class(info.duration)))
        out.append(("dynamic range", "hdr" if v.hdr else "sdr"))
        if v.codec and ctx.asset.kind == "video":
            out.append(("codec", CODECS.get(v.codec, v.codec)))
        return [Label(name=n, facet=f, source=self.name, confidence=1.0) for f, n in out]
