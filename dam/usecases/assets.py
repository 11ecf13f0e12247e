"""One asset: find it, everything known about it, its rating, tags and XMP sidecar."""

from __future__ import annotations

from pydantic import Field

from dam.audio.store import stems_summary, transcript_of
from dam.audio.transcribe import Transcript
from dam.enrich import store as enrich_store
from dam.enrich.store import EnrichmentView
from dam.errors import NotFound
from dam.library_ops.describe import describe_asset
from dam.library_ops.store import Rating, rating_of, set_rating
from dam.library_ops.xmp import xmp_packet
from dam.motion.store import summary as motion_summary
from dam.schema import Asset, Relation, Scene


class AssetDetail(Asset):
    """What `dam info` and `GET /assets/{id}` show."""

    scenes: list[Scene] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
    rating: int | None = None
    flag: str | None = None
    transcript: Transcript | None = None
    motion: dict | None = Field(None, description="Whether it moved, and when (dam.motion.store.summary).")
    stems: dict | None = Field(None, description="Its dialogue and music stems (dam separate), if made.")


def find_asset(lib, ref: str, by_path: bool = False) -> Asset:
    """By id, id prefix, content hash or catalogued path; `by_path` (the CLI) also resolves a path
    given relative to the working folder."""
    a = lib.asset(ref) if by_path else lib.catalog.asset(ref)
    if a is None:
        raise NotFound(f"no asset matches {ref!r}")
    return a


def asset_detail(lib, ref: str, by_path: bool = False) -> AssetDetail:
    a = find_asset(lib, ref, by_path)
    r = rating_of(lib.catalog, a.id)
    return AssetDetail(**a.model_dump(), scenes=lib.catalog.scenes(a.id), relations=lib.catalog.relations(a.id),
                       rating=r.rating, flag=r.flag, transcript=transcript_of(lib, a.id),
                       motion=motion_summary(lib.catalog, a.id), stems=stems_summary(lib.catalog, a.id))


def rate(lib, ref: str, rating: int | None, flag: str | None, by_path: bool = False) -> tuple[Asset, Rating]:
    a = find_asset(lib, ref, by_path)
    return a, set_rating(lib.catalog, a.id, rating, flag)


def tags(lib, ref: str, add: list[str] = (), remove: list[str] = (), description: str | None = None,
         by_path: bool = False) -> tuple[Asset, EnrichmentView | None]:
    """The asset's tags and description, after the edit when one is given."""
    a = find_asset(lib, ref, by_path)
    if add or remove or description is not None:
        enrich_store.edit(lib.catalog, a.id, add, remove, description)
    return a, enrich_store.view(lib.catalog, a.id)


def sidecar(lib, ref: str) -> bytes:
    return xmp_packet(describe_asset(lib, find_asset(lib, ref)))
