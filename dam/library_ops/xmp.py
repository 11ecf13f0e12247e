"""XMP sidecars (Adobe's packet format) that Lightroom, Bridge, Premiere, Resolve and exiftool read.

dc:title/description/subject carry the words, xmp:CreateDate/ModifyDate/Rating the dates and
stars (a reject is rating -1, as the XMP spec says), photoshop:DateCreated the capture date,
and xmpDM:Tracks holds one marker track per kind of note (shots, transcript, motion) with
start/duration in frames at the clip's rate — what Premiere imports as clip markers."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from dam.library_ops.describe import AssetMetadata

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpDM": "http://ns.adobe.com/xmp/1.0/DynamicMedia/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
}
CREATOR_TOOL = "dam"
for _p, _u in NS.items():
    ET.register_namespace(_p, _u)


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


def _sub(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, _q(name))
    if text is not None:
        el.text = text
    return el


def _alt(parent: ET.Element, name: str, text: str) -> None:
    alt = _sub(_sub(parent, name), "rdf:Alt")
    li = _sub(alt, "rdf:li", text)
    li.set("{http://www.w3.org/XML/1998/namespace}lang", "x-default")


def _seq_or_bag(parent: ET.Element, name: str, kind: str, items: list[str]) -> None:
    box = _sub(_sub(parent, name), kind)
    for it in items:
        _sub(box, "rdf:li", it)


def xmp_packet(m: AssetMetadata) -> bytes:
    root = ET.Element(_q("x:xmpmeta"))
    rdf = _sub(root, "rdf:RDF")
    d = _sub(rdf, "rdf:Description")
    d.set(_q("rdf:about"), "")
    _alt(d, "dc:title", m.title)
    _alt(d, "dc:description", m.description)
    _seq_or_bag(d, "dc:subject", "rdf:Bag", m.keywords)
    _sub(d, "xmp:CreatorTool", CREATOR_TOOL)
    if m.created:
        _sub(d, "xmp:CreateDate", m.created.isoformat())
        _sub(d, "photoshop:DateCreated", m.created.isoformat())
    if m.modified:
        _sub(d, "xmp:ModifyDate", m.modified.isoformat(timespec="seconds"))
    rating = -1 if m.flag == "reject" else m.rating
    if rating is not None:
        _sub(d, "xmp:Rating", str(rating))
    if m.flag == "pick":
        _sub(d, "xmp:Label", "Pick")
    if m.make:
        _sub(d, "tiff:Make", m.make)
    if m.model:
        _sub(d, "tiff:Model", m.model)
    if m.duration:
        dur = _sub(d, "xmpDM:duration")
        dur.set(_q("rdf:parseType"), "Resource")
        _sub(dur, "xmpDM:value", f"{m.duration:.3f}")
        _sub(dur, "xmpDM:scale", "1/1")
    if m.notes:
        fps = m.fps or 25.0
        tracks = _sub(_sub(d, "xmpDM:Tracks"), "rdf:Bag")
        for kind in dict.fromkeys(n.kind for n in m.notes):
            track = _sub(tracks, "rdf:li")
            track.set(_q("rdf:parseType"), "Resource")
            _sub(track, "xmpDM:trackName", {"scene": "Shots", "transcript": "Transcript", "motion": "Motion"}.get(kind, kind))
            _sub(track, "xmpDM:trackType", "Comment")
            _sub(track, "xmpDM:frameRate", f"f{round(fps * 1000)}s1000" if fps != round(fps) else f"f{round(fps)}")
            markers = _sub(_sub(track, "xmpDM:markers"), "rdf:Seq")
            for n in (n for n in m.notes if n.kind == kind):
                mk = _sub(markers, "rdf:li")
                mk.set(_q("rdf:parseType"), "Resource")
                _sub(mk, "xmpDM:startTime", str(round(n.start * fps)))
                _sub(mk, "xmpDM:duration", str(max(0, round((n.end - n.start) * fps))))
                _sub(mk, "xmpDM:name", n.text[:80])
                _sub(mk, "xmpDM:comment", n.text)
    body = ET.tostring(root, encoding="unicode")
    return (f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n{body}\n<?xpacket end="w"?>\n').encode()


def sidecar_path(media: Path) -> Path:
    """`clip.mp4` -> `clip.xmp` (Adobe's convention for video and raw files)."""
    return media.with_suffix(".xmp")


def written_by_dam(path: Path) -> bool:
    try:
        return f"<xmp:CreatorTool>{CREATOR_TOOL}</xmp:CreatorTool>" in path.read_text(errors="replace")
    except OSError:
        return False


def write_sidecar(m: AssetMetadata, path: Path) -> Path:
    """Atomically write the packet; a sidecar some other tool wrote is never overwritten."""
    if path.exists() and not written_by_dam(path):
        raise FileExistsError(f"{path} exists and was not written by dam; left as is")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.dam-part")
    tmp.write_bytes(xmp_packet(m))
    os.replace(tmp, path)
    return path
