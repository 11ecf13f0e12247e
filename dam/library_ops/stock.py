"""Metadata CSVs in the column layouts stock sites publish for bulk uploads.

    Adobe Stock    Filename,Title,Keywords,Category,Releases      title <= 200, <= 49 keywords
    Shutterstock   Filename,Description,Keywords,Categories,Editorial,Mature content,Illustration
                   description <= 200, 7-50 keywords
    Pond5          originalfilename,title,description,keywords,editorial   title <= 80, 5-50 keywords

Keywords go comma-separated in one quoted cell; the csv module does the quoting. A row whose
asset has too few keywords for the site is still written and reported, so nothing is lost."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from dam.library_ops.describe import AssetMetadata


@dataclass(frozen=True)
class Layout:
    header: tuple[str, ...]
    title_max: int
    min_keywords: int
    max_keywords: int


LAYOUTS = {
    "adobe-stock": Layout(("Filename", "Title", "Keywords", "Category", "Releases"), 200, 1, 49),
    "shutterstock": Layout(("Filename", "Description", "Keywords", "Categories", "Editorial", "Mature content",
                            "Illustration"), 200, 7, 50),
    "pond5": Layout(("originalfilename", "title", "description", "keywords", "editorial"), 80, 5, 50),
}


def _clip(text: str, n: int) -> str:
    """Cut at a word boundary so a title never ends mid-word."""
    if len(text) <= n:
        return text
    cut = text[: n + 1].rsplit(" ", 1)[0].rstrip(",;: ")
    return cut or text[:n]


def _row(site: str, m: AssetMetadata, layout: Layout) -> list[str]:
    kws = ", ".join(k.replace(",", " ") for k in m.keywords[: layout.max_keywords])
    if site == "adobe-stock":
        return [m.name, _clip(m.title, layout.title_max), kws, "", ""]
    if site == "shutterstock":
        return [m.name, _clip(m.description, layout.title_max), kws, "", "no", "no", "no"]
    return [m.name, _clip(m.title, layout.title_max), _clip(m.description, 1000), kws, "no"]


def stock_csv(site: str, items: list[AssetMetadata]) -> tuple[str, list[str]]:
    """(CSV text, warnings) for one site."""
    layout = LAYOUTS[site]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(layout.header)
    warnings = []
    for m in items:
        if len(m.keywords) < layout.min_keywords:
            warnings.append(f"{m.name}: {len(m.keywords)} keywords, {site} wants at least {layout.min_keywords}")
        w.writerow(_row(site, m, layout))
    return buf.getvalue(), warnings
