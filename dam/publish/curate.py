"""Checks before anything leaves: rejects and low ratings are held back, and each asset's
title, description and keyword count must fit the target's limits. Messages say what to fix."""

from __future__ import annotations

from pydantic import BaseModel

from dam.config import PublishTarget
from dam.library_ops.describe import AssetMetadata
from dam.library_ops.stock import LAYOUTS


class Problem(BaseModel):
    asset_id: str
    name: str
    message: str


def check(m: AssetMetadata, t: PublishTarget) -> list[str]:
    lim = LAYOUTS[t.layout]
    out = []
    if m.flag == "reject":
        out.append("flagged as a reject")
    if t.picks_only and m.flag != "pick":
        out.append("not flagged as a pick (target publishes picks only)")
    if (m.rating or 0) < t.min_rating:
        out.append(f"rated {m.rating or 0}, target wants at least {t.min_rating} stars")
    if len(m.title.strip()) < t.min_title:
        out.append(f"title {m.title!r} is shorter than {t.min_title} characters (dam tag --description / rename)")
    if len(m.title) > lim.title_max:
        out.append(f"title is {len(m.title)} characters; {t.layout} allows {lim.title_max} (it would be cut)")
    if not m.description.strip():
        out.append("no description (dam enrich or dam tag --description)")
    if len(m.keywords) < lim.min_keywords:
        out.append(f"{len(m.keywords)} keywords; {t.layout} needs at least {lim.min_keywords} (dam tag --add)")
    if len(m.keywords) > lim.max_keywords:
        out.append(f"{len(m.keywords)} keywords; {t.layout} takes {lim.max_keywords}, the rest are dropped")
    return out


def curate(items: list[AssetMetadata], t: PublishTarget) -> tuple[list[AssetMetadata], list[Problem]]:
    """(publishable, problems). Over-long titles and extra keywords are warnings the CSV writer
    handles (cut at a word, first N kept); everything else holds the asset back."""
    ok, problems = [], []
    for m in items:
        msgs = check(m, t)
        problems += [Problem(asset_id=m.asset_id, name=m.name, message=x) for x in msgs]
        blocking = [x for x in msgs if "would be cut" not in x and "are dropped" not in x]
        if not blocking:
            ok.append(m)
    return ok, problems
